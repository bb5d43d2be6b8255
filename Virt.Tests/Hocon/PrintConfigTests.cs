using System.Text.Json;
using Virt.Tests.Support;

namespace Virt.Tests.Hocon;

/// <summary>virt-node --print-config, run as the real binary the way an operator would.</summary>
public sealed class PrintConfigTests
{
    private static async Task<(int Exit, string Stdout, string Stderr)> VirtNode(params string[] args)
    {
        using var process = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.VirtNode, .. args]);
        var lines = new List<string>();
        while (await process.ReadLine(TimeSpan.FromSeconds(60)) is { } line)
            lines.Add(line);
        var exit = await process.WaitForExit(TimeSpan.FromSeconds(60));
        return (exit, string.Join('\n', lines), process.Stderr);
    }

    [Fact]
    public async Task Prints_defaults_with_includes_substitutions_and_overrides_applied()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("site.conf"), "virt.data-dir = /srv/virt-site\nvirt.persistence.index-refresh = 2s");
        File.WriteAllText(dir.File("node.conf"), """
            include "site.conf"
            virt {
              node.name = from-file
              persistence.sqlite.path = ${virt.data-dir}"/events.db"
              node.roles = [a]
            }
            """);

        var (exit, stdout, stderr) = await VirtNode("--config", dir.File("node.conf"),
            "--set", "virt.node.name=from-set", "--set", "virt.node.roles=[\"x\",\"y\"]", "--set", "virt.data-dir=/override", "--print-config");

        Assert.True(exit == 0, stderr);
        var virt = JsonDocument.Parse(stdout).RootElement.GetProperty("virt");
        Assert.Equal("from-set", virt.GetProperty("node").GetProperty("name").GetString());
        Assert.Equal("/override", virt.GetProperty("data-dir").GetString());
        Assert.Equal("/override/events.db", virt.GetProperty("persistence").GetProperty("sqlite").GetProperty("path").GetString()); // substitution sees the override
        Assert.Equal("2s", virt.GetProperty("persistence").GetProperty("index-refresh").GetString()); // from the include
        Assert.Equal("full", virt.GetProperty("persistence").GetProperty("sqlite").GetProperty("synchronous").GetString()); // default kept
        Assert.Equal(["x", "y"], virt.GetProperty("node").GetProperty("roles").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(100, virt.GetProperty("cluster").GetProperty("shards").GetInt32()); // numbers stay numbers
    }

    [Fact]
    public async Task A_bad_file_exits_non_zero_with_the_position_and_prints_no_configuration()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("bad.conf"), "virt {\n  data-dir = /x\n  node.name = [oops\n}\n");
        var (exit, stdout, stderr) = await VirtNode("--config", dir.File("bad.conf"), "--print-config");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"{dir.File("bad.conf")}:4:1", stderr);
        Assert.Contains("expected ']' to close the array opened at 3:15", stderr);
    }

    [Fact]
    public async Task A_missing_file_and_a_malformed_override_are_reported()
    {
        var (exit, _, stderr) = await VirtNode("--config", "/nonexistent/virt.conf", "--print-config");
        Assert.Equal(2, exit);
        Assert.Contains("/nonexistent/virt.conf: configuration file not found", stderr);

        (exit, _, stderr) = await VirtNode("--set", "virt.node.name", "--print-config");
        Assert.Equal(2, exit);
        Assert.Contains("expected key=value", stderr);
    }
}
