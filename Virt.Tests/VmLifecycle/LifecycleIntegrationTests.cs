using System.Text.Json.Nodes;
using Akka.Actor;
using Virt.Actors.Vm;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>The lifecycle suite on the default SQLite journal.</summary>
public sealed class SqliteLifecycleTests : LifecycleIntegrationTests
{
    protected override Task<string?> Postgres() => Task.FromResult<string?>(null);
}

/// <summary>The same suite on a real PostgreSQL 15 (started by the tests).</summary>
public sealed class PostgresLifecycleTests : LifecycleIntegrationTests
{
    protected override async Task<string?> Postgres() => await (await PostgresServer.Shared).CreateDatabase("lifecycle");
}

/// <summary>A whole virt-node in the test process, driving libvirt's real test driver through the HTTP API.</summary>
public abstract class LifecycleIntegrationTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-node");
    private readonly SimulatedHost _host = new(cpus: 16, memoryMiB: 65536);
    private InProcessNode _node = null!;

    /// <summary>The journal's PostgreSQL connection string, or null for SQLite.</summary>
    protected abstract Task<string?> Postgres();

    public async Task InitializeAsync()
    {
        _node = InProcessNode.OnJournal(_dir.Path, _host.Uri, await Postgres(), "virt.vm.restart-backoff=20ms", "virt.vm.restart-backoff-max=100ms");
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    private static object Spec(string name, string restart = "always", int? maxRestarts = null) =>
        new { name, vcpus = 2, memory = "1GiB", restart, maxRestarts, disks = new[] { new { kind = "file", path = $"/var/lib/images/{name}.qcow2" } } };

    private Task<List<Virt.Node.Agent.DomainEntry>> Domains() => _node.Domains();

    private Task<bool> RunsInLibvirt(string name) => _node.RunsInLibvirt(name);

    /// <summary>Kills the domain behind Virt's back: a destroy sent straight to the node agent with the VM's current token, as an outside actor would.</summary>
    private async Task Crash(string name)
    {
        var op = (await _node.Get($"/v1/vms/{name}"))["operation"]!.GetValue<long>();
        Assert.Equal(DomainOutcome.Done, (await _node.Agent.Ask<DomainRequestDone>(new StopDomain(name, true, op, _node.Incarnation), TimeSpan.FromSeconds(10))).Outcome);
    }

    [Fact]
    public async Task Every_command_from_create_to_delete_and_create_again()
    {
        var created = await _node.Post("/v1/vms", Spec("web-1"), expect: 201);
        Assert.Equal(("web-1", "stopped", "stopped"), (created["name"]!.GetValue<string>(), created["state"]!.GetValue<string>(), created["desired"]!.GetValue<string>()));
        Assert.Null(created["node"]);
        Assert.Single((await _node.Get("/v1/vms")).AsArray());

        var starting = await _node.Post("/v1/vms/web-1/start", expect: 202);
        Assert.Equal("starting", starting["state"]!.GetValue<string>());
        var running = await _node.WaitForState("web-1", "running");
        Assert.Equal("test-node", running["node"]!.GetValue<string>());
        Assert.True(await RunsInLibvirt("web-1"));
        await _node.Post("/v1/vms/web-1/start", expect: 200); // already running: accepted, nothing to do

        await _node.Post("/v1/vms/web-1/restart", expect: 202);
        await _node.WaitForState("web-1", "running");
        Assert.Equal(0, (await _node.Get("/v1/vms/web-1"))["restartsInWindow"]!.GetValue<int>()); // asked for, not counted

        await _node.Post("/v1/vms/web-1/stop", expect: 202);
        await _node.WaitForState("web-1", "stopped");
        Assert.False(await RunsInLibvirt("web-1"));

        await _node.Post("/v1/vms/web-1/start", expect: 202);
        await _node.WaitForState("web-1", "running");
        await _node.Post("/v1/vms/web-1/stop?force=true", expect: 202);
        await _node.WaitForState("web-1", "stopped");

        await _node.Post("/v1/vms/web-1/clear-failures", expect: 200);
        await _node.Json(HttpMethod.Delete, "/v1/vms/web-1", expect: 204);
        await _node.Get("/v1/vms/web-1", expect: 404);
        Assert.Empty((await _node.Get("/v1/vms")).AsArray());
        Assert.DoesNotContain(await Domains(), d => d.Name == "web-1"); // undefined in libvirt too

        await _node.Post("/v1/vms", Spec("web-1"), expect: 201);
        await _node.Post("/v1/vms/web-1/start", expect: 202);
        await _node.WaitForState("web-1", "running");
    }

    [Fact]
    public async Task A_crashed_vm_restarts_until_max_restarts_then_is_Failed_with_reasons_and_clear_failures_brings_it_back()
    {
        await _node.Post("/v1/vms", Spec("flaky", maxRestarts: 2), expect: 201);
        await _node.Post("/v1/vms/flaky/start", expect: 202);
        await _node.WaitForState("flaky", "running");

        for (var i = 1; i <= 2; i++)
        {
            await Crash("flaky");
            var back = await WaitForRestarts("flaky", i);
            Assert.Equal("running", back["state"]!.GetValue<string>());
            Assert.True(await RunsInLibvirt("flaky"));
        }

        await Crash("flaky");
        var failed = await _node.WaitForState("flaky", "failed");
        var reasons = failed["failureReasons"]!.AsArray().Select(r => r!.GetValue<string>()).ToList();
        Assert.Equal(3, reasons.Count(r => r.Contains("killed outside Virt (destroyed)")));
        Assert.Contains("gave up: the 2 restart(s) allowed", reasons[^1]);
        Assert.False(await RunsInLibvirt("flaky"));

        var refused = await _node.Post("/v1/vms/flaky/start", expect: 409);
        Assert.Equal("failed", refused["state"]!.GetValue<string>());
        Assert.Contains("clear-failures", refused["detail"]!.GetValue<string>());

        await _node.Post("/v1/vms/flaky/clear-failures", expect: 202);
        var again = await _node.WaitForState("flaky", "running");
        Assert.Empty(again["failureReasons"]!.AsArray());

    }

    private Task<JsonNode> WaitForRestarts(string vm, int restarts) =>
        _node.WaitFor(vm, v => v["state"]!.GetValue<string>() == "running" && v["restartsInWindow"]!.GetValue<int>() == restarts, $"running after restart {restarts}");

    [Fact]
    public async Task Restart_policy_never_leaves_a_crashed_vm_stopped()
    {
        await _node.Post("/v1/vms", Spec("once", restart: "never"), expect: 201);
        await _node.Post("/v1/vms/once/start", expect: 202);
        await _node.WaitForState("once", "running");
        await Crash("once");
        var stopped = await _node.WaitForState("once", "stopped");
        Assert.Equal("stopped", stopped["desired"]!.GetValue<string>());
        Assert.Contains("restart policy never", (await _node.Get("/v1/events?vm=once")).AsArray().Last()!["detail"]!["why"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_of_a_running_vm_is_refused_unless_forced()
    {
        await _node.Post("/v1/vms", Spec("db-1"), expect: 201);
        await _node.Post("/v1/vms/db-1/start", expect: 202);
        await _node.WaitForState("db-1", "running");
        var refused = await _node.Json(HttpMethod.Delete, "/v1/vms/db-1", expect: 409);
        Assert.Equal("it is running; stop it first, or delete with --force to stop and delete", refused["reason"]!.GetValue<string>());
        Assert.True(await RunsInLibvirt("db-1"));

        await _node.Json(HttpMethod.Delete, "/v1/vms/db-1?force=true", expect: 202);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await _node.Http.GetAsync("/v1/vms/db-1")).StatusCode != System.Net.HttpStatusCode.NotFound && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        await _node.Get("/v1/vms/db-1", expect: 404);
        while ((await Domains()).Any(d => d.Name == "db-1") && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.DoesNotContain(await Domains(), d => d.Name == "db-1");
    }

    [Fact]
    public async Task State_survives_a_restart_of_virt_node_and_running_vms_come_back()
    {
        await _node.Post("/v1/vms", Spec("keep-running"), expect: 201);
        await _node.Post("/v1/vms", Spec("keep-stopped"), expect: 201);
        await _node.Post("/v1/vms/keep-running/start", expect: 202);
        await _node.WaitForState("keep-running", "running");

        await _node.Stop();
        await _node.Start(); // a new libvirt connection to the test host: its domains are gone, as after a host reboot

        // Right after the restart the view is the journal's ("running"); reconciling with libvirt then finds the domain
        // gone and starts it: that counts as a restart.
        await WaitForRestarts("keep-running", 1);
        Assert.True(await RunsInLibvirt("keep-running"));
        Assert.Contains("host test-node restarted", (await _node.Get("/v1/events?vm=keep-running")).AsArray().Select(e => e!["detail"]!["why"]?.GetValue<string>()).OfType<string>().Last());
        Assert.Equal("stopped", (await _node.Get("/v1/vms/keep-stopped"))["state"]!.GetValue<string>());
        Assert.False(await RunsInLibvirt("keep-stopped"));
    }

    [Fact]
    public async Task A_restart_of_the_test_driver_host_is_named_as_such_and_clear_failures_all_forgets_the_restarts()
    {
        foreach (var name in new[] { "a", "b", "c" })
            await _node.Post("/v1/vms", Spec(name), expect: 201);
        await _node.Post("/v1/vms/a/start", expect: 202);
        await _node.Post("/v1/vms/b/start", expect: 202);
        await _node.WaitForState("a", "running");
        await _node.WaitForState("b", "running");

        await _node.Stop();
        await _node.Start(); // the test driver's domains ended with the old connection: to Virt, a host restart
        foreach (var name in new[] { "a", "b" })
        {
            var back = await WaitForRestarts(name, 1);
            Assert.StartsWith("host test-node restarted", (await _node.Get($"/v1/events?vm={name}")).AsArray()
                .Select(e => e!["detail"]!["why"]?.GetValue<string>()).OfType<string>().Last());
            Assert.True(await RunsInLibvirt(name));
        }

        var (exit, stdout, stderr) = await VirtCli.Against(_node.Http.BaseAddress!.Authority, "vm", "clear-failures", "--all");
        Assert.True(exit == 0, stderr);
        Assert.Equal("cleared the failures of 2 VM(s): a, b", stdout.Trim());
        foreach (var name in new[] { "a", "b", "c" })
            Assert.Equal(0, (await _node.Get($"/v1/vms/{name}"))["restartsInWindow"]!.GetValue<int>());
        (exit, stdout, _) = await VirtCli.Against(_node.Http.BaseAddress!.Authority, "vm", "clear-failures", "--all");
        Assert.Equal((0, "no VM had failures or restarts to clear"), (exit, stdout.Trim()));
    }

    [Fact]
    public async Task The_agent_refuses_a_request_for_another_incarnation_of_its_host_or_with_an_older_op()
    {
        await _node.Post("/v1/vms", Spec("guarded"), expect: 201);
        await _node.Post("/v1/vms/guarded/start", expect: 202);
        var vm = await _node.WaitForState("guarded", "running");
        var op = vm["operation"]!.GetValue<long>();

        var earlier = await _node.Agent.Ask<DomainRequestDone>(new StopDomain("guarded", true, op, _node.Incarnation - 1), TimeSpan.FromSeconds(10));
        Assert.Equal(DomainOutcome.Stale, earlier.Outcome);
        Assert.Contains($"this is incarnation {_node.Incarnation}", earlier.Error);
        var older = await _node.Agent.Ask<DomainRequestDone>(new StopDomain("guarded", true, op - 1, _node.Incarnation), TimeSpan.FromSeconds(10));
        Assert.Equal(DomainOutcome.Stale, older.Outcome);
        Assert.Contains($"older than op {op}", older.Error);
        Assert.True(await RunsInLibvirt("guarded")); // neither was carried out

        var stranger = new VmSpec("stranger-2", Guid.NewGuid(), 1, 256, [], []);
        Assert.Equal(DomainOutcome.Stale, (await _node.Agent.Ask<DomainRequestDone>(new StartDomain(stranger, 1, _node.Incarnation + 1), TimeSpan.FromSeconds(10))).Outcome);
        Assert.DoesNotContain(await Domains(), d => d.Name == "stranger-2");
    }

    [Fact]
    public async Task Domains_virt_does_not_manage_are_reported_and_never_touched()
    {
        var stranger = new VmSpec("stranger", Guid.NewGuid(), 1, 256, [], []);
        Assert.Equal(DomainOutcome.Done, (await _node.Agent.Ask<DomainRequestDone>(new StartDomain(stranger, -1, _node.Incarnation), TimeSpan.FromSeconds(10))).Outcome);
        await _node.Post("/v1/vms", Spec("mine"), expect: 201);

        var node = await _node.Get("/v1/node");
        var unknown = node["unknownDomains"]!.AsArray();
        Assert.Equal("stranger", Assert.Single(unknown)!["name"]!.GetValue<string>());
        await _node.Post("/v1/vms/stranger/start", expect: 404);
        Assert.True(await RunsInLibvirt("stranger"));
    }

    [Fact]
    public async Task The_event_stream_delivers_state_changes_live()
    {
        await _node.Post("/v1/vms", Spec("watched"), expect: 201);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await _node.Http.GetAsync("/v1/events/stream", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        await _node.Post("/v1/vms/watched/start", expect: 202);

        var types = new List<string>();
        string? lastId = null;
        while (!types.Contains("started"))
        {
            var line = await reader.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException("stream ended");
            if (line.StartsWith("id: "))
                lastId = line[4..];
            if (line.StartsWith("data: "))
                types.Add(JsonNode.Parse(line[6..])!["type"]!.GetValue<string>());
        }

        Assert.Equal(["defined", "placement-requested", "start-requested", "started"], types);

        // Ids are journal offsets, so a client can resume with Last-Event-ID: resuming after the first event skips it.
        var firstId = (await _node.Get("/v1/events?vm=watched")).AsArray().First()!["offset"]!.GetValue<long>();
        using var resumed = new HttpRequestMessage(HttpMethod.Get, "/v1/events/stream");
        resumed.Headers.Add("Last-Event-ID", firstId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var again = await _node.Http.SendAsync(resumed, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var replay = new StreamReader(await again.Content.ReadAsStreamAsync(cts.Token));
        string? firstData = null;
        while (firstData is null)
        {
            var line = await replay.ReadLineAsync(cts.Token) ?? throw new Xunit.Sdk.XunitException("stream ended");
            if (line.StartsWith("data: "))
                firstData = line[6..];
        }

        Assert.Equal("placement-requested", JsonNode.Parse(firstData)!["type"]!.GetValue<string>());
        Assert.NotNull(lastId);
    }
}
