using Virt.Scheduler;
using Virt.Tests.Support;

namespace Virt.Tests.Scheduler;

/// <summary>
/// README's placement section: every scenario in it runs through the real <c>virt plan</c> and prints exactly the
/// output shown after it (a <c>$ virt plan FILE</c> block), the timing line aside.
/// </summary>
public sealed class ReadmeExamplesTests
{
    private sealed record Example(string Scenario, string File, string[] Output);

    private static List<Example> Examples()
    {
        var readme = File.ReadAllText(Path.Combine(Binaries.RepoRoot, "README.md"));
        var start = readme.IndexOf("## Placement: `virt plan`", StringComparison.Ordinal);
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var blocks = IndentedBlocks(readme[start..end]);
        var examples = new List<Example>();
        for (var i = 0; i < blocks.Count; i++)
        {
            if (!blocks[i].TrimStart().StartsWith('{'))
                continue;
            var output = i + 1 < blocks.Count && blocks[i + 1].StartsWith("$ virt plan ") ? blocks[i + 1].Split('\n') : null;
            Assert.True(output is not null, $"README scenario without the output it prints after it:\n{blocks[i]}");
            examples.Add(new Example(blocks[i], output![0]["$ virt plan ".Length..].Trim(), output[1..]));
        }

        return examples;
    }

    /// <summary>Code blocks indented by four spaces, separated by blank lines when the next line is not indented.</summary>
    private static List<string> IndentedBlocks(string markdown)
    {
        var blocks = new List<string>();
        var current = new List<string>();
        foreach (var line in markdown.Split('\n'))
        {
            if (line.StartsWith("    "))
            {
                current.Add(line[4..]);
                continue;
            }

            if (line.Trim().Length == 0 && current.Count > 0)
            {
                blocks.Add(string.Join('\n', current).TrimEnd());
                current.Clear();
            }
        }

        if (current.Count > 0)
            blocks.Add(string.Join('\n', current).TrimEnd());
        return blocks;
    }

    [Fact]
    public void The_placement_section_shows_an_example_of_every_new_field()
    {
        var scenarios = string.Join('\n', Examples().Select(e => e.Scenario));
        string[] fields =
        [
            "\"now\"", "\"negative_score_forbids\"", "\"stickiness\"", "\"with\"", "\"node_attribute\"", "\"at_most\"", "\"type\"", "\"not_in\"",
            "\"in\"", "\"date\"", "\"date_spec\"", "\"kind\": \"repair\"", "\"unplaceable\"", "\"preempt\": true", "\"migration_threshold\": 1",
            "\"failure_timeout_s\": 120", "\"group\"", "\"start_after\"", "\"optional\"", "\"mandatory\"", "\"kind\": \"fail\"",
        ];
        foreach (var field in fields)
            Assert.True(scenarios.Contains(field), $"no README example uses {field}");
        // And every one of them reads: the engine knows what the README says.
        foreach (var e in Examples().Where(e => !e.Output[0].StartsWith("virt plan:")))
            ScenarioReader.Read(e.Scenario);
    }

    [Fact]
    public async Task Every_scenario_prints_what_the_readme_shows()
    {
        using var dir = new TempDirectory();
        var examples = Examples();
        Assert.True(examples.Count >= 10, $"only {examples.Count} examples found");
        foreach (var e in examples)
        {
            File.WriteAllText(dir.File(e.File), e.Scenario);
            using var process = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.Virt, "plan", dir.File(e.File)]);
            var lines = new List<string>();
            while (await process.ReadLine(TimeSpan.FromSeconds(60)) is { } line)
                lines.Add(line);
            var exit = await process.WaitForExit(TimeSpan.FromSeconds(60));
            var printed = lines.Concat(process.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Where(l => !l.StartsWith("planned in ")).ToArray();
            Assert.True(e.Output.SequenceEqual(printed), $"README example {e.File} prints (exit {exit}):\n{string.Join('\n', printed)}\n\nbut the README shows:\n{string.Join('\n', e.Output)}");
            Assert.Equal(e.Output[0].StartsWith("virt plan:") ? 1 : 0, exit);
        }
    }
}
