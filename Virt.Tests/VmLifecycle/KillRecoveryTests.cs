using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

public sealed class SqliteKillRecoveryTests : KillRecoveryTests
{
    protected override Task<string[]> Journal() => Task.FromResult(Array.Empty<string>());
}

public sealed class PostgresKillRecoveryTests : KillRecoveryTests
{
    protected override async Task<string[]> Journal() => [$"virt.persistence.postgresql.connection-string={await (await PostgresServer.Shared).CreateDatabase("kill")}"];
}

/// <summary>
/// SIGKILL of a real virt-node in the middle of a burst of creates and commands, then a restart on the same data:
/// every acknowledged create and command holds, and the journal and libvirt agree about every VM.
/// </summary>
public abstract class KillRecoveryTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-kill");
    private readonly SimulatedHost _host = new(cpus: 64, memoryMiB: 262144);
    private VirtNodeProcess _node = null!;

    /// <summary>The overrides that choose the journal (none: SQLite).</summary>
    protected abstract Task<string[]> Journal();

    public async Task InitializeAsync()
    {
        _node = new VirtNodeProcess(_dir.Path, _host.Uri, ["virt.vm.restart-backoff=20ms", .. await Journal()]);
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _host.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task After_SIGKILL_mid_operation_acknowledged_commands_hold_and_journal_and_libvirt_agree()
    {
        const int count = 30;
        for (var i = 0; i < count; i++)
            Assert.True((await _node.Http.PostAsync("/v1/vms", Json(new JsonObject { ["name"] = $"vm{i:00}", ["vcpus"] = 1, ["memory"] = "256MiB" }))).IsSuccessStatusCode);
        for (var i = 0; i < count / 2; i++)
            Assert.True((await _node.Http.PostAsync($"/v1/vms/vm{i:00}/start", null)).IsSuccessStatusCode);
        await Settled();

        // The burst: create new VMs, start the stopped half, stop some of the running half; kill once a few answers are in.
        var acked = new ConcurrentDictionary<string, string>();
        var created = new ConcurrentBag<string>();
        var killNow = new TaskCompletionSource();
        var commands = Enumerable.Range(count / 2, count / 2).Select(i => ($"vm{i:00}", "start"))
            .Concat(Enumerable.Range(0, count / 3).Select(i => ($"vm{i:00}", "stop")))
            .Concat(Enumerable.Range(100, 40).Select(i => ($"new{i}", "create")))
            .ToList();
        var burst = commands.Select(c => Task.Run(async () =>
        {
            try
            {
                var response = c.Item2 == "create"
                    ? await _node.Http.PostAsync("/v1/vms", Json(new JsonObject { ["name"] = c.Item1, ["vcpus"] = 1, ["memory"] = "128MiB" }))
                    : await _node.Http.PostAsync($"/v1/vms/{c.Item1}/{c.Item2}", null);
                if (response.IsSuccessStatusCode && c.Item2 == "create")
                    created.Add(c.Item1);
                else if (response.IsSuccessStatusCode)
                    acked[c.Item1] = c.Item2;
                // Mid-burst: some of each kind acknowledged, the rest still in flight or unsent.
                if (acked.Count >= 5 && created.Count >= 5)
                    killNow.TrySetResult();
            }
            catch (HttpRequestException)
            {
                // In flight when the process died: its outcome is unknown, either is allowed.
            }
        })).ToList();
        await killNow.Task.WaitAsync(TimeSpan.FromSeconds(30));
        _node.Kill();
        await Task.WhenAll(burst);
        Assert.NotEmpty(acked);
        Assert.NotEmpty(created);

        await _node.Start();
        var vms = await Settled();
        var names = vms.Select(v => v!["name"]!.GetValue<string>()).ToHashSet();
        Assert.Empty(created.Where(c => !names.Contains(c))); // an acknowledged create is never lost
        Assert.Empty((await _node.Get("/v1/node"))["unknownDomains"]!.AsArray());
        var libvirt = await RunningInLibvirt();

        foreach (var vm in vms)
        {
            var name = vm!["name"]!.GetValue<string>();
            var desired = vm["desired"]!.GetValue<string>();
            var state = vm["state"]!.GetValue<string>();
            if (acked.TryGetValue(name, out var command))
                Assert.Equal(command == "start" ? "running" : "stopped", desired); // an acknowledged command is never lost
            Assert.Equal(desired, state);
            Assert.Equal(state == "running", libvirt.Contains(name)); // journal and libvirt agree
        }
    }

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), System.Text.Encoding.UTF8, "application/json");

    /// <summary>What libvirt itself runs, as the node agent lists it.</summary>
    private async Task<HashSet<string>> RunningInLibvirt()
    {
        var node = await _node.Get("/v1/node");
        Assert.True(node["healthy"]!.GetValue<bool>());
        return node["domains"]!.AsArray().Where(d => d!["state"]!.GetValue<string>() == "running").Select(d => d!["name"]!.GetValue<string>()).ToHashSet();
    }

    /// <summary>Waits until no VM is between states, and returns them.</summary>
    private async Task<JsonArray> Settled()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var vms = (await _node.Get("/v1/vms")).AsArray();
            if (vms.All(v => v!["state"]!.GetValue<string>() is "running" or "stopped" or "failed"))
                return vms;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"VMs did not settle: {vms}");
            await Task.Delay(20);
        }
    }
}
