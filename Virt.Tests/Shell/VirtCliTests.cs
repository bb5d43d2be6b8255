using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>The real virt binary against a real virt-node process, as an operator would use them.</summary>
public sealed class VirtCliTests : IAsyncLifetime
{
    private readonly SingleNode _one = new("virt-cli");

    public Task InitializeAsync() => _one.InitializeAsync();

    public Task DisposeAsync() => _one.DisposeAsync();

    private Task<(int Exit, string Out, string Err)> Virt(params string[] args) => VirtCli.Against(_one.Node.Address, args);

    private static Task<(int Exit, string Out, string Err)> Run(Dictionary<string, string> env, params string[] args) => VirtCli.Run(env, args);

    [Fact]
    public async Task A_vm_from_create_to_delete_with_tables_for_people_and_json_for_scripts()
    {
        var (exit, stdout, stderr) = await Virt("vm", "create", "--name", "web-1", "--vcpus", "2", "--memory", "2GiB",
            "--disk", "/var/lib/images/web-1.qcow2", "--nic", "bridge:br0,vlan=42,ovs", "--restart", "on-failure");
        Assert.True(exit == 0, stderr);
        Assert.Contains("web-1: defined (2 vCPU, 2048 MiB)", stdout);

        (exit, stdout, _) = await Virt("vm", "start", "web-1", "--wait");
        Assert.Equal((0, "web-1: running"), (exit, stdout));

        (exit, stdout, _) = await Virt("vm", "list");
        Assert.Equal(0, exit);
        Assert.StartsWith("NAME", stdout);
        Assert.Matches(@"web-1\s+running\s+running\s+proc-node\s+2\s+2048 MiB", stdout);

        (_, stdout, _) = await Virt("vm", "list", "--json");
        var list = JsonNode.Parse(stdout)!.AsArray();
        Assert.Equal("web-1", Assert.Single(list)!["name"]!.GetValue<string>());

        (_, stdout, _) = await Virt("vm", "show", "web-1", "--json");
        var vm = JsonNode.Parse(stdout)!;
        Assert.Equal(("web-1", "running", "running", "proc-node"), (vm["name"]!.GetValue<string>(), vm["state"]!.GetValue<string>(), vm["desired"]!.GetValue<string>(), vm["node"]!.GetValue<string>()));
        Assert.Equal(42, vm["nics"]![0]!["vlan"]!.GetValue<int>());

        (_, stdout, _) = await Virt("vm", "show", "web-1");
        Assert.Contains("state     running (desired running)", stdout);
        Assert.Contains("nic       bridge br0 vlan 42 ovs", stdout);

        (exit, stdout, _) = await Virt("vm", "restart", "web-1", "--wait");
        Assert.Equal((0, "web-1: running"), (exit, stdout));
        (exit, stdout, _) = await Virt("vm", "stop", "web-1", "--wait");
        Assert.Equal((0, "web-1: stopped"), (exit, stdout));
        (exit, _, _) = await Virt("vm", "clear-failures", "web-1");
        Assert.Equal(0, exit);

        (exit, stdout, _) = await Virt("events", "--vm", "web-1");
        Assert.Equal(0, exit);
        Assert.Contains("start-requested", stdout);
        Assert.Contains("stopped", stdout);

        (exit, stdout, _) = await Virt("node", "show", "--json");
        Assert.Equal((0, true), (exit, JsonNode.Parse(stdout)!["healthy"]!.GetValue<bool>()));

        (exit, stdout, _) = await Virt("vm", "delete", "web-1");
        Assert.Equal((0, "web-1: deleted"), (exit, stdout));
        (_, stdout, _) = await Virt("vm", "list");
        Assert.StartsWith("No VMs.", stdout);
    }

    [Fact]
    public async Task A_spec_file_creates_a_vm()
    {
        File.WriteAllText(_one.Dir.File("db.json"), """{"name": "db-1", "vcpus": 4, "memory": "4GiB", "disks": [{"kind": "rbd", "path": "rbd/db-1", "monitors": ["10.0.0.1:6789"], "user": "libvirt"}]}""");
        var (exit, stdout, stderr) = await Virt("vm", "create", "-f", _one.Dir.File("db.json"), "--json");
        Assert.True(exit == 0, stderr);
        Assert.Equal("rbd", JsonNode.Parse(stdout)!["disks"]![0]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Errors_exit_non_zero_with_the_servers_message()
    {
        var (exit, stdout, stderr) = await Virt("vm", "start", "ghost");
        Assert.Equal((1, ""), (exit, stdout));
        Assert.Contains("virt: no VM named 'ghost'", stderr);

        (exit, _, stderr) = await Virt("vm", "create", "--name", "bad name", "--vcpus", "0", "--memory", "1GiB");
        Assert.Equal(1, exit);
        Assert.Contains("name: 'bad name' is not a valid VM name", stderr);
        Assert.Contains("vcpus: must be between 1 and 4096, not 0", stderr);

        await Virt("vm", "create", "--name", "busy", "--vcpus", "1", "--memory", "1GiB");
        await Virt("vm", "start", "busy", "--wait");
        (exit, _, stderr) = await Virt("vm", "delete", "busy");
        Assert.Equal(1, exit);
        Assert.Contains("it is running; stop it first, or delete with --force", stderr);

        (exit, _, stderr) = await Virt("vm", "create", "--name", "x", "--vcpus", "1", "--memory", "1GiB", "--nic", "wifi:home");
        Assert.Equal(2, exit);
        Assert.Contains("--nic wifi:home: start with one of network:, bridge:", stderr);
    }

    [Fact]
    public async Task The_address_comes_from_api_over_VIRT_API_and_an_unreachable_node_is_exit_3()
    {
        var (exit, _, stderr) = await Run(new Dictionary<string, string> { ["VIRT_API"] = "127.0.0.1:9" }, "vm", "list");
        Assert.Equal(3, exit);
        Assert.Contains("cannot reach virt-node at 127.0.0.1:9", stderr);

        (exit, var stdout, _) = await Run(new Dictionary<string, string> { ["VIRT_API"] = "127.0.0.1:9" }, "--api", _one.Node.Address, "vm", "list");
        Assert.Equal(0, exit);
        Assert.StartsWith("No VMs.", stdout);
    }
}
