using System.Text.Json.Nodes;
using System.Xml.Linq;
using Akka.Actor;
using Virt.Actors.Vm;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// vm reset, sysrq, send-key and vnc on a whole node over libvirt's test driver, through the API and the real virt
/// binary. What libvirt has is read through the host's agent (the test driver's state lives in the node's process).
/// </summary>
public sealed class DomainControlTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-control");
    private readonly SimulatedHost _host = new();
    private InProcessNode _node = null!;

    public async Task InitializeAsync()
    {
        _node = new InProcessNode(_dir.Path, _host.Uri);
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    private async Task<DomainDetails> Libvirt(string name) => await _node.Agent.Ask<DomainDetails>(new ReadDomain(name, _node.Incarnation), TimeSpan.FromSeconds(10));

    private Task<(int Exit, string Out, string Err)> Virt(params string[] args) => VirtCli.Against(_node.Http.BaseAddress!.Authority, args);

    private async Task Running(string name, object spec)
    {
        await _node.Post("/v1/vms", spec, expect: 201);
        await _node.Post($"/v1/vms/{name}/start", expect: 202);
        await _node.WaitForState(name, "running");
    }

    [Fact]
    public async Task Vnc_says_where_the_display_is_from_the_live_domain_xml_or_that_there_is_none()
    {
        await Running("desk-1", new { name = "desk-1", vcpus = 1, memory = "512MiB", vnc = true, vncPort = 5907 });
        var graphics = XDocument.Parse((await Libvirt("desk-1")).Xml!).Root!.Element("devices")!.Element("graphics")!;
        Assert.Equal(("vnc", "5907", "127.0.0.1"), ((string)graphics.Attribute("type")!, (string)graphics.Attribute("port")!, (string)graphics.Attribute("listen")!));
        var (exit, stdout, stderr) = await Virt("vm", "vnc", "desk-1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("127.0.0.1:5907 (on test-node; connect with a VNC viewer, e.g. vncviewer 127.0.0.1:5907)", stdout);
        Assert.Equal("127.0.0.1:5907", (await _node.Get("/v1/vms/desk-1/vnc"))["vnc"]!.GetValue<string>());

        await Running("auto-1", new { name = "auto-1", vcpus = 1, memory = "512MiB", vnc = true });
        Assert.Contains("has no port yet", (await _node.Get("/v1/vms/auto-1/vnc"))["message"]!.GetValue<string>()); // the test driver assigns none

        await Running("plain-1", new { name = "plain-1", vcpus = 1, memory = "512MiB" });
        (exit, stdout, _) = await Virt("vm", "vnc", "plain-1");
        Assert.Equal((0, "plain-1 has no VNC display; give it one with 'virt vm update plain-1 --vnc' (at its next start)"), (exit, stdout));
        Assert.Null(XDocument.Parse((await Libvirt("plain-1")).Xml!).Root!.Element("devices")!.Element("graphics"));

        var problem = await _node.Post("/v1/vms", new { name = "bad-1", vcpus = 1, memory = "512MiB", vncPort = 80 }, expect: 400);
        Assert.Contains("vncPort: must be between 5900 and 65535, not 80", problem["detail"]!.GetValue<string>());
        Assert.Contains("vncPort: needs \"vnc\": true", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reset_sysrq_and_send_key_reach_the_running_domain_and_are_refused_when_it_does_not_run()
    {
        await Running("web-1", new { name = "web-1", vcpus = 1, memory = "512MiB" });
        var (exit, stdout, stderr) = await Virt("vm", "reset", "web-1");
        Assert.True(exit == 0, stderr);
        Assert.Equal("web-1: reset done on test-node", stdout);
        Assert.True((await Libvirt("web-1")).Running); // a reset is no stop: still running in libvirt...
        var vm = await _node.Get("/v1/vms/web-1");
        Assert.Equal(("running", 0), (vm["state"]!.GetValue<string>(), vm["restartsInWindow"]!.GetValue<int>())); // ...and no restart for Virt

        (exit, stdout, _) = await Virt("vm", "send-key", "web-1", "ctrl", "alt", "delete", "--hold-ms", "50");
        Assert.Equal((0, "web-1: send-key ctrl+alt+delete done on test-node"), (exit, stdout));
        (exit, stdout, _) = await Virt("vm", "sysrq", "web-1", "h");
        Assert.Equal((0, "web-1: sysrq h done on test-node"), (exit, stdout));

        (exit, _, stderr) = await Virt("vm", "sysrq", "web-1", "y");
        Assert.Equal(2, exit);
        Assert.Contains("KEY 'y' is not one of", stderr);
        (exit, _, stderr) = await Virt("vm", "send-key", "web-1", "ctrl", "hyper");
        Assert.Equal(1, exit);
        Assert.Contains("keys[1]: 'hyper' is not a key name", stderr);
        var problem = await _node.Post("/v1/vms/web-1/send-key", new { keys = Enumerable.Repeat("a", 17) }, expect: 400);
        Assert.Contains("libvirt presses at most 16 together", problem["detail"]!.GetValue<string>());
        problem = await _node.Post("/v1/vms/web-1/send-key", new { keys = new[] { "a" }, hold = 5 }, expect: 400);
        Assert.Contains("hold: unknown field", problem["detail"]!.GetValue<string>());

        // Refused by the host's agent: a domain destroyed behind Virt's back, and a token for another incarnation of the host.
        await _node.Agent.Ask<DomainRequestDone>(new StopDomain("web-1", true, (await _node.Get("/v1/vms/web-1"))["operation"]!.GetValue<long>(), _node.Incarnation), TimeSpan.FromSeconds(10));
        var refused = await _node.Agent.Ask<DomainControlDone>(new ResetDomain("web-1", _node.Incarnation), TimeSpan.FromSeconds(10));
        Assert.Equal("web-1 does not run on test-node", refused.Error);
        refused = await _node.Agent.Ask<DomainControlDone>(new ResetDomain("web-1", _node.Incarnation + 1), TimeSpan.FromSeconds(10));
        Assert.StartsWith($"it was meant for incarnation {_node.Incarnation + 1} of host test-node", refused.Error);

        await _node.Post("/v1/vms", new { name = "off-1", vcpus = 1, memory = "512MiB" }, expect: 201);
        (exit, _, stderr) = await Virt("vm", "reset", "off-1");
        Assert.Equal(1, exit);
        Assert.Contains("VM off-1: it is stopped; reset needs it running", stderr);
        (exit, _, stderr) = await Virt("vm", "vnc", "ghost");
        Assert.Equal(1, exit);
        Assert.Contains("no VM named 'ghost'", stderr);
    }
}
