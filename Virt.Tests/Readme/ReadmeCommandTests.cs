using Virt.Shell.Parsing;
using Virt.Tests.Support;

namespace Virt.Tests.Readme;

/// <summary>
/// Every command example in README.md runs as written: the <c>scripts/virt</c> lines in README order against a real
/// virt-node process (the node's address stands in for 127.0.0.1:9110), and each <c>virt-node</c> line's
/// configuration passes its checks (<c>--print-config</c>). The placement section's scenarios have their own test.
/// </summary>
public sealed class ReadmeCommandTests : IAsyncLifetime
{
    private const string DefaultApi = "127.0.0.1:9110";
    private readonly SingleNode _one = new("virt-readme");

    public Task InitializeAsync() => _one.InitializeAsync();

    public Task DisposeAsync() => _one.DisposeAsync();

    /// <summary>Command lines of indented code blocks, outside the sections that are not run here; trailing "# comments" dropped.</summary>
    internal static List<string> CommandLines(params string[] skipSections)
    {
        var lines = new List<string>();
        var skipping = false;
        foreach (var raw in File.ReadAllLines(Path.Combine(Binaries.RepoRoot, "README.md")))
        {
            if (raw.StartsWith("## ", StringComparison.Ordinal))
                skipping = skipSections.Any(s => raw.StartsWith("## " + s, StringComparison.Ordinal));
            if (skipping || !raw.StartsWith("    ", StringComparison.Ordinal))
                continue;
            var line = raw.Trim();
            var comment = line.IndexOf("  #", StringComparison.Ordinal);
            if (comment > 0)
                line = line[..comment].TrimEnd();
            line = line.Replace("source <(", "", StringComparison.Ordinal).TrimEnd(')');
            if (line.StartsWith("scripts/virt", StringComparison.Ordinal) || line.StartsWith("virt-node ", StringComparison.Ordinal))
                lines.Add(line);
        }

        return lines;
    }

    [Fact]
    public async Task Every_command_example_runs_as_written()
    {
        var lines = CommandLines("Placement", "The two commands");
        Assert.Contains(lines, l => l.StartsWith("scripts/virt vm create", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("virt-node ", StringComparison.Ordinal));
        var env = new Dictionary<string, string> { ["VIRT_API"] = _one.Node.Address, ["VIRT_HISTORY"] = _one.Dir.File("history"), ["NO_COLOR"] = "1" };
        foreach (var line in lines)
        {
            var words = Words.Split(line.Replace(DefaultApi, _one.Node.Address, StringComparison.Ordinal), out _).Select(w => w.Text).ToArray();
            var (exit, stdout, stderr) = words[0] == "scripts/virt"
                ? await VirtCli.RunIn(Binaries.RepoRoot, env, words[1..]) // README paths are relative to the repository
                : await VirtNode(words[1..]);
            Assert.True(exit == 0, $"README: `{line}` exited {exit}\n{stdout}\n{stderr}");
        }
    }

    /// <summary>A virt-node line checked as configuration: the same line with <c>--print-config</c>, from the repository root (its paths are relative to it).</summary>
    private static async Task<(int, string, string)> VirtNode(string[] args)
    {
        using var process = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.VirtNode, .. args, .. args.Contains("--print-config") ? Array.Empty<string>() : ["--print-config"]], workingDirectory: Binaries.RepoRoot);
        var lines = new List<string>();
        while (await process.ReadLine(TimeSpan.FromSeconds(60)) is { } line)
            lines.Add(line);
        return (await process.WaitForExit(TimeSpan.FromSeconds(60)), string.Join('\n', lines), process.Stderr);
    }
}
