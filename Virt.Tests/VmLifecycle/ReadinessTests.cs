using System.Net;
using System.Net.Sockets;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// Readiness on a whole node over libvirt's test driver: the tcp kind against a real listening socket (ready only
/// once the port accepts, and the probe's connection is seen arriving), a VM never ready reported at its timeout, and
/// the readiness spec through vm update / vm edit (GET .../spec, PUT, PATCH).
/// </summary>
public sealed class ReadinessTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-ready");
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

    /// <summary>A loopback port nothing listens on (taken from the kernel, then let go).</summary>
    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    [Fact]
    public async Task A_tcp_check_makes_the_vm_ready_only_once_its_port_accepts()
    {
        var port = FreePort();
        await _node.Post("/v1/vms", new { name = "app-1", vcpus = 1, memory = "256MiB", readiness = new { kind = "tcp", tcp = $"127.0.0.1:{port}", timeout = "5m" } }, expect: 201);
        await _node.Post("/v1/vms/app-1/start", expect: 202);
        var running = await _node.WaitForState("app-1", "running");
        Assert.False(running["ready"]!.GetValue<bool>());
        Assert.StartsWith("waiting for ready (tcp, ", running["readyState"]!.GetValue<string>());
        Assert.EndsWith("of 300 s timeout)", running["readyState"]!.GetValue<string>());

        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        using var accepted = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = await listener.AcceptTcpClientAsync(accepted.Token); // the agent's probe connects
        var ready = await _node.WaitFor("app-1", v => v["ready"]!.GetValue<bool>(), "ready");
        Assert.Equal($"tcp: 127.0.0.1:{port} accepted a connection", ready["readyEvidence"]!.GetValue<string>());
        Assert.StartsWith("ready since ", ready["readyState"]!.GetValue<string>());
        Assert.True(ready["readySince"]!.GetValue<DateTimeOffset>() >= running["since"]!.GetValue<DateTimeOffset>());
        var listed = (await _node.Get("/v1/vms")).AsArray().Single(v => v!["name"]!.GetValue<string>() == "app-1")!;
        Assert.True(listed["ready"]!.GetValue<bool>()); // the list (from the journal's index) says it too
        var stored = (await _node.Get("/v1/events?vm=app-1")).AsArray().Single(e => e!["type"]!.GetValue<string>() == "ready")!;
        Assert.Equal(ready["readyEvidence"]!.GetValue<string>(), stored["detail"]!["evidence"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_vm_whose_check_never_passes_is_reported_at_its_timeout_and_keeps_running()
    {
        var port = FreePort();
        await _node.Post("/v1/vms", new { name = "app-2", vcpus = 1, memory = "256MiB", readiness = new { kind = "tcp", tcp = $"127.0.0.1:{port}", timeout = "1s" } }, expect: 201);
        await _node.Post("/v1/vms/app-2/start", expect: 202);
        var reported = await _node.WaitFor("app-2", v => v["lastError"] is not null, "reported not ready");
        Assert.Equal($"not ready within 1 s of its start: nothing accepted a connection on 127.0.0.1:{port}", reported["lastError"]!.GetValue<string>());
        Assert.Equal(("running", false), (reported["state"]!.GetValue<string>(), reported["ready"]!.GetValue<bool>()));
        Assert.StartsWith("not ready: still waiting for ready (tcp) after ", reported["readyState"]!.GetValue<string>());
        Assert.True(await _node.RunsInLibvirt("app-2"));
        var events = (await _node.Get("/v1/events?vm=app-2")).AsArray();
        var overdue = Assert.Single(events, e => e!["type"]!.GetValue<string>() == "ready-overdue")!;
        Assert.Equal(reported["lastError"]!.GetValue<string>(), overdue["detail"]!["reason"]!.GetValue<string>()); // an event in its journal
        Assert.DoesNotContain(events, e => e!["type"]!.GetValue<string>() == "ready");
    }

    [Fact]
    public async Task Without_a_check_running_is_ready()
    {
        await _node.Post("/v1/vms", new { name = "plain-1", vcpus = 1, memory = "256MiB" }, expect: 201);
        await _node.Post("/v1/vms/plain-1/start", expect: 202);
        var running = await _node.WaitForState("plain-1", "running");
        Assert.True(running["ready"]!.GetValue<bool>());
        Assert.Equal("none", running["readiness"]!["kind"]!.GetValue<string>());
        Assert.Equal(running["since"]!.GetValue<DateTimeOffset>(), running["readySince"]!.GetValue<DateTimeOffset>());
    }

    [Fact]
    public async Task The_readiness_spec_goes_through_edit_put_and_patch()
    {
        await _node.Post("/v1/vms", new { name = "db-1", vcpus = 1, memory = "256MiB", readiness = new { kind = "virtio-signal", timeout = "90s" } }, expect: 201);
        var spec = await _node.Get("/v1/vms/db-1/spec");
        Assert.Equal(("virtio-signal", "90s"), (spec["readiness"]!["kind"]!.GetValue<string>(), spec["readiness"]!["timeout"]!.GetValue<string>()));
        Assert.Null(spec["readiness"]!["tcp"]);

        await _node.Json(HttpMethod.Put, "/v1/vms/db-1", spec, expect: 200); // what vm edit sends back unchanged: nothing to do
        var patched = await _node.Json(HttpMethod.Patch, "/v1/vms/db-1", new { readiness = new { kind = "tcp", tcp = "10.0.0.5:5432" } }, expect: 202);
        Assert.Equal(("tcp", "10.0.0.5:5432", "90s"), (patched["readiness"]!["kind"]!.GetValue<string>(), patched["readiness"]!["tcp"]!.GetValue<string>(), patched["readiness"]!["timeout"]!.GetValue<string>()));

        var refused = await _node.Json(HttpMethod.Patch, "/v1/vms/db-1", new { readiness = new { kind = "guest-agent" } }, expect: 400); // tcp is still there
        Assert.Contains("is only for kind tcp, not guest-agent", refused["errors"]!["readiness.tcp"]!.AsArray().First()!.GetValue<string>());

        var removed = await _node.Json(HttpMethod.Patch, "/v1/vms/db-1", "{\"readiness\": null}", expect: 202);
        Assert.Equal("none", removed["readiness"]!["kind"]!.GetValue<string>());
    }
}
