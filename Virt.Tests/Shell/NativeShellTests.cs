using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>The publish of the native shell takes both cores for a minute: alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeBuild
{
    public const string Name = "native build";
}

/// <summary>
/// The native (AOT) virt that scripts/virt builds and the README uses, against a real virt-node: trimming and
/// ahead-of-time compilation keep every path that JSON and the palettes take (a reflection-based path fails only here).
/// </summary>
[Collection(NativeBuild.Name)]
public sealed class NativeShellTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-native");
    private readonly SimulatedHost _host = new();
    private VirtNodeProcess _node = null!;
    private string _virt = "";

    public async Task InitializeAsync()
    {
        using (var build = ChildProcess.Start("bash", [Path.Combine(Binaries.RepoRoot, "scripts", "virt"), "--api", "127.0.0.1:9", "--help"]))
        {
            var exit = await build.WaitForExit(TimeSpan.FromMinutes(10));
            Assert.True(exit == 0, $"scripts/virt did not build the native virt: {build.Stderr}");
        }

        _virt = Path.Combine(Binaries.RepoRoot, "Virt.Shell", "bin", "aot", "virt");
        Assert.True(File.Exists(_virt), $"scripts/virt ran but there is no native binary at {_virt} (is clang installed?)");
        _node = new VirtNodeProcess(_dir.Path, _host.Uri);
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    private async Task<(int Exit, string Out, string Err)> Native(params string[] args)
    {
        using var process = ChildProcess.Start(_virt, [_node.Address, .. args]);
        var lines = new List<string>();
        while (await process.ReadLine(TimeSpan.FromSeconds(30)) is { } line)
            lines.Add(line);
        return (await process.WaitForExit(TimeSpan.FromSeconds(30)), string.Join('\n', lines), process.Stderr);
    }

    [Fact]
    public async Task The_tour_runs_one_shot_with_json_on_the_native_binary()
    {
        var (exit, stdout, stderr) = await Native("vm", "create", "--name", "db-1", "--vcpus", "1", "--memory", "1GiB",
            "--disk", "rbd:rbd/db-1,mon=10.0.0.1:6789,user=libvirt", "--nic", "bridge:br0,vlan=42", "--json");
        Assert.True(exit == 0, stderr);
        var created = JsonNode.Parse(stdout)!;
        Assert.Equal(("db-1", 1024L, "10.0.0.1:6789", 42), (created["name"]!.GetValue<string>(), created["memoryMib"]!.GetValue<long>(),
            created["disks"]![0]!["monitors"]![0]!.GetValue<string>(), created["nics"]![0]!["vlan"]!.GetValue<int>()));
        (exit, _, stderr) = await Native("vm", "create", "--name", "web-1", "--vcpus", "2", "--memory", "2GiB", "--disk", "/var/lib/images/web-1.qcow2");
        Assert.True(exit == 0, stderr);

        (exit, stdout, stderr) = await Native("vm", "start", "web-1", "--wait", "--json");
        Assert.True(exit == 0, stderr);
        Assert.Equal("running", JsonNode.Parse(stdout)!["state"]!.GetValue<string>());
        (_, stdout, _) = await Native("vm", "list", "--json");
        Assert.Equal(["db-1", "web-1"], JsonNode.Parse(stdout)!.AsArray().Select(v => v!["name"]!.GetValue<string>()).Order());
        (_, stdout, _) = await Native("vm", "list");
        Assert.Matches(@"web-1\s+running\s+running\s+proc-node\s+2\s+2048 MiB", stdout);
        (_, stdout, _) = await Native("vm", "show", "web-1");
        Assert.Contains("disk      vda file /var/lib/images/web-1.qcow2", stdout);
        (_, stdout, _) = await Native("events", "--json", "--vm", "web-1");
        Assert.Contains("start-requested", stdout);
        Assert.DoesNotContain("\\u002B", stdout);
        (_, stdout, _) = await Native("node", "show", "--json");
        Assert.True(JsonNode.Parse(stdout)!["healthy"]!.GetValue<bool>());
        (_, stdout, _) = await Native("cluster", "show");
        Assert.Contains("this node     proc-node: up", stdout);
        (exit, stdout, _) = await Native("vm", "stop", "web-1", "--force", "--wait");
        Assert.Equal((0, "web-1: stopped"), (exit, stdout));
        (exit, stdout, _) = await Native("vm", "delete", "web-1");
        Assert.Equal((0, "web-1: deleted"), (exit, stdout));
        (_, stdout, _) = await Native("__complete", "virt vm create --re");
        Assert.Equal("--restart", stdout);
    }

    [Fact]
    public async Task Plan_runs_offline_and_errors_keep_their_statuses_on_the_native_binary()
    {
        File.WriteAllText(_dir.File("s.json"), """
            {"nodes": [{"name": "n1", "capacity": {"vcpu": 8, "memory_mib": 16384}}],
             "vms": [{"name": "a", "demand": {"vcpu": 2, "memory_mib": 4096}}], "action": {"kind": "place"}}
            """);
        using (var plan = ChildProcess.Start(_virt, ["--api", "127.0.0.1:9", "plan", _dir.File("s.json"), "--json"]))
        {
            var text = new List<string>();
            while (await plan.ReadLine(TimeSpan.FromSeconds(30)) is { } line)
                text.Add(line);
            Assert.Equal(0, await plan.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Equal("a", JsonNode.Parse(string.Join('\n', text))!["decisions"]![0]!["vm"]!.GetValue<string>());
        }

        Assert.Equal(2, (await Native("vm", "create", "--vcpus", "many")).Exit);
        Assert.Equal(1, (await Native("vm", "show", "ghost")).Exit);
        using var unreachable = ChildProcess.Start(_virt, ["127.0.0.1:9", "vm", "list"]);
        Assert.Equal(3, await unreachable.WaitForExit(TimeSpan.FromSeconds(30)));
    }
}
