using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>
/// Labels on VMs and commands by label, with the real virt binary against a real virt-node process. What runs is read
/// from libvirt's own domain list (GET /v1/node lists what the host's libvirt has), not from the VMs' states.
/// </summary>
public sealed class LabelCliTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-labels");
    private readonly SimulatedHost _host = new(cpus: 16, memoryMiB: 16384);
    private VirtNodeProcess _node = null!;

    public async Task InitializeAsync()
    {
        _node = new VirtNodeProcess(_dir.Path, _host.Uri);
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    private Task<(int Exit, string Out, string Err)> Virt(params string[] args) => VirtCli.Against(_node.Address, args);

    private async Task<List<string>> RunningInLibvirt() =>
        JsonNode.Parse(await _node.Http.GetStringAsync("/v1/node"))!["domains"]!.AsArray()
            .Where(d => d!["state"]!.GetValue<string>() == "running").Select(d => d!["name"]!.GetValue<string>()).Order().ToList();

    [Fact]
    public async Task Vms_are_listed_started_and_stopped_by_label_with_each_outcome_and_exit_1_when_one_refused()
    {
        await Virt("vm", "create", "--name", "web-1", "--vcpus", "1", "--memory", "1GiB", "--label", "app=web", "--label", "tier=front");
        await Virt("vm", "create", "--name", "web-2", "--vcpus", "1", "--memory", "1GiB", "-l", "app=web");
        await Virt("vm", "create", "--name", "web-3", "--vcpus", "1", "--memory", "64GiB", "-l", "app=web"); // fits no host
        await Virt("vm", "create", "--name", "db-1", "--vcpus", "1", "--memory", "1GiB", "-l", "app=db");

        var (exit, stdout, _) = await Virt("vm", "list", "--label", "app=web");
        Assert.Equal(0, exit);
        Assert.Equal(["web-1", "web-2", "web-3"], stdout.Split('\n').Skip(1).Select(l => l.Split(' ')[0]).ToArray());
        Assert.Contains("app=web, tier=front", stdout);
        (_, stdout, _) = await Virt("vm", "list", "--label", "app=web", "--label", "tier=front", "--json");
        Assert.Equal("web-1", Assert.Single(JsonNode.Parse(stdout)!.AsArray())!["name"]!.GetValue<string>());

        (exit, stdout, var stderr) = await Virt("vm", "start", "--label", "app=web", "--wait");
        Assert.Equal(1, exit); // web-3 was refused
        var lines = stdout.Split('\n');
        Assert.Equal(["web-1: running", "web-2: running"], lines[..2]);
        Assert.StartsWith("web-3: stopped, refused: no host can run it: proc-node: memory needs 65536 MiB", lines[2]);
        Assert.Equal(["web-1", "web-2"], await RunningInLibvirt()); // and db-1 was left alone

        (exit, stdout, _) = await Virt("vm", "stop", "--label", "app=web", "--label", "tier=front", "--wait", "--json");
        Assert.Equal(0, exit);
        var answer = JsonNode.Parse(stdout)!;
        Assert.Equal(("web-1", "stopped"), (answer["vms"]![0]!["name"]!.GetValue<string>(), answer["vms"]![0]!["state"]!.GetValue<string>()));
        Assert.Empty(answer["refused"]!.AsArray());
        Assert.Equal(["web-2"], await RunningInLibvirt());

        (exit, stdout, _) = await Virt("vm", "stop", "--label", "app=nothing");
        Assert.Equal((0, "no VM has the label(s) app=nothing; 'virt vm list' shows the VMs and their labels"), (exit, stdout));
    }

    [Fact]
    public async Task Labels_change_with_update_and_bad_labels_or_selectors_say_what_is_wrong()
    {
        await Virt("vm", "create", "--name", "app-1", "--vcpus", "1", "--memory", "1GiB", "-l", "app=shop", "-l", "tier=back");
        var (exit, _, stderr) = await Virt("vm", "update", "app-1", "--label", "tier=front", "--remove-label", "app");
        Assert.True(exit == 0, stderr);
        var (_, stdout, _) = await Virt("vm", "show", "app-1");
        Assert.Contains("labels    tier=front", stdout);

        (exit, _, stderr) = await Virt("vm", "list", "--label", "app");
        Assert.Equal(2, exit);
        Assert.Contains("--label 'app' is not KEY=VALUE (like app=web)", stderr);
        (exit, _, stderr) = await Virt("vm", "update", "app-1", "--label", "app=two words");
        Assert.Equal(1, exit);
        Assert.Contains("labels.app: 'two words' is not a label value", stderr);
        (exit, _, stderr) = await Virt("vm", "stop", "app-1", "--label", "tier=front");
        Assert.Equal(2, exit);
        Assert.Contains("vm stop: give NAME or --label, not both", stderr);
        using var both = await _node.Http.PostAsync("/v1/vms/app-1/stop?label=tier%3Dfront", null); // the node says so too, to any client
        Assert.Equal(400, (int)both.StatusCode);
        Assert.Contains("give a VM name (app-1) or labels, not both", await both.Content.ReadAsStringAsync());
        using var neither = await _node.Http.PostAsync("/v1/vms/stop", null);
        Assert.Contains("or label=KEY=VALUE for every VM with that label", await neither.Content.ReadAsStringAsync());
        using var bad = await _node.Http.GetAsync("/v1/vms?label=" + Uri.EscapeDataString("bad key=x"));
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Contains("is not a label key", await bad.Content.ReadAsStringAsync());
    }
}
