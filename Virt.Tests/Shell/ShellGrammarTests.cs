using System.Text.Json.Nodes;
using Virt.Shell.Interactive;
using Virt.Shell.Output;
using Virt.Shell.Palettes;
using Virt.Shell.Parsing;

namespace Virt.Tests.Shell;

/// <summary>The pure parts of the shell: words, the parser against the palettes, output templates, line edits.</summary>
public sealed class ShellGrammarTests
{
    private static readonly Palettes Builtin = PaletteSource.Builtin();

    [Theory]
    [InlineData("vm start web-1", new[] { "vm", "start", "web-1" })]
    [InlineData("vm create --name 'my vm' --disk \"/a b/c.qcow2\"", new[] { "vm", "create", "--name", "my vm", "--disk", "/a b/c.qcow2" })]
    [InlineData("  events\\ x  -f ", new[] { "events x", "-f" })]
    public void Words_split_like_a_posix_shell(string line, string[] words) =>
        Assert.Equal(words, Words.Split(line).Select(w => w.Text));

    [Fact]
    public void The_parser_reads_arguments_options_equals_and_repeats()
    {
        var parsed = Assert.IsType<ParsedCommand>(CommandParser.Parse(Builtin, ["vm", "create", "--name=web-1", "-m", "2GiB", "--disk", "/a", "--disk", "/b", "--vcpus", "2"]));
        Assert.Equal("vm create", parsed.Title);
        Assert.Equal(["/a", "/b"], parsed.Values["--disk"]);
        Assert.Equal("2GiB", parsed.Value("--memory"));
        var (method, path, body) = Virt.Shell.Execution.RequestBuilder.Build(parsed);
        Assert.Equal((HttpMethod.Post, "/v1/vms"), (method, path));
        Assert.Equal("vdb", body!["disks"]![1]!["target"]!.GetValue<string>());
        Assert.Equal(2, body["vcpus"]!.GetValue<long>());

        var stop = Assert.IsType<ParsedCommand>(CommandParser.Parse(Builtin, ["vm", "stop", "a b", "--force", "--wait", "--timeout", "5"]));
        Assert.Equal("/v1/vms/a%20b/stop?force=true", Virt.Shell.Execution.RequestBuilder.Build(stop).Path);
        var events = Assert.IsType<ParsedCommand>(CommandParser.Parse(Builtin, ["events", "--vm", "web-1"]));
        Assert.Equal("/v1/events?vm=web-1&limit=20", Virt.Shell.Execution.RequestBuilder.Build(events).Path);

        var update = Assert.IsType<ParsedCommand>(CommandParser.Parse(Builtin, ["vm", "update", "web-1", "-m", "8GiB", "--label", "app=web", "--remove-label", "tier", "-l", "v=a=b"]));
        var patch = Virt.Shell.Execution.RequestBuilder.Build(update);
        Assert.Equal(("PATCH", "/v1/vms/web-1"), (patch.Method.Method, patch.Path));
        Assert.Equal("""{"memory":"8GiB","labels":{"app":"web","v":"a=b","tier":null}}""", patch.Body!.ToJsonString());
        var bulk = Assert.IsType<ParsedCommand>(CommandParser.Parse(Builtin, ["vm", "stop", "--label", "app=web", "-l", "tier=front", "--force"]));
        Assert.Equal("/v1/vms/stop?force=true&label=app%3Dweb&label=tier%3Dfront", Virt.Shell.Execution.RequestBuilder.Build(bulk).Path);
    }

    [Theory]
    [InlineData("vm start web-1 web-2", "vm start: unexpected 'web-2' (it takes NAME)")]
    [InlineData("vm start web-1 --timeout 5", "vm start: --timeout applies to --wait; add --wait")]
    [InlineData("vm create --vcpus 1 --vcpus 2", "vm create: --vcpus is given twice")]
    [InlineData("vm list --json=yes", "vm list: --json takes no value")]
    [InlineData("vm create --name", "vm create: --name needs a value")]
    [InlineData("vn list", "unknown command 'vn'; did you mean 'vm'?")]
    [InlineData("vm start web-1 --forse", "vm start: unknown option --forse")]
    [InlineData("vm stop web-1 --forse", "vm stop: unknown option --forse; did you mean '--force'?")]
    public void Every_mistake_is_one_usage_error_that_says_what_to_do(string line, string message)
    {
        var error = Assert.Throws<UsageException>(() => CommandParser.Parse(Builtin, Words.Split(line).Select(w => w.Text).ToList()));
        Assert.StartsWith(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Help_is_asked_for_by_help_flags_at_every_level()
    {
        Assert.Equal(new HelpRequest(null, null), CommandParser.Parse(Builtin, ["--help"]));
        Assert.Equal("vm", Assert.IsType<HelpRequest>(CommandParser.Parse(Builtin, ["vm"])).Palette!.Name);
        var help = Assert.IsType<HelpRequest>(CommandParser.Parse(Builtin, ["vm", "start", "-h"]));
        Assert.Equal("start", help.Command!.Name);
        Assert.Contains("--wait", HelpText.For(Builtin, help));
    }

    [Theory]
    [InlineData("{name}: {state}[ (last error: {lastError})]", """{"name": "a", "state": "failed", "lastError": "boom"}""", "a: failed (last error: boom)")]
    [InlineData("{name}: {state}[ (last error: {lastError})]", """{"name": "a", "state": "running", "lastError": null}""", "a: running")]
    [InlineData("{node}", """{"node": null}""", "-")]
    [InlineData("{detail.why??detail.reasons.last}", """{"detail": {"reasons": ["x", "y"]}}""", "y")]
    [InlineData("{target}[ (read-only){readOnly|if}]", """{"target": "vda", "readOnly": true}""", "vda (read-only)")]
    [InlineData("{target}[ (read-only){readOnly|if}]", """{"target": "vda", "readOnly": false}""", "vda")]
    [InlineData("{healthy|bool:healthy:UNHEALTHY} {ms|seconds} {roles}", """{"healthy": false, "ms": 3240, "roles": ["a", "b"]}""", "UNHEALTHY 3.2 s a, b")]
    [InlineData("{{literal}} [[x]] {NAME}", "{}", "{literal} [x] web-1")]
    public void Templates_print_fields_and_drop_brackets_whose_fields_are_missing(string template, string json, string expected) =>
        Assert.Equal(expected, Template.Render(template, JsonNode.Parse(json), new Dictionary<string, List<string>> { ["NAME"] = ["web-1"] }));

    [Fact]
    public void Line_edits_move_and_kill_by_words()
    {
        var line = new LineState();
        line.Set("vm start web-1");
        line.Move(8);
        line.KillWordBack();
        Assert.Equal(("vm  web-1", 3), (line.Text, line.Cursor));
        line.Insert("stop");
        line.KillToEnd();
        Assert.Equal("vm stop", line.Text);
        line.Move(0);
        line.Move(line.WordEnd());
        Assert.Equal(2, line.Cursor);
        line.Replace(0, "node");
        Assert.Equal(("node stop", 4), (line.Text, line.Cursor));
    }
}
