using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>
/// Fencing by watchdog alone: each host's virt-node pets its watchdog (a <see cref="TestWatchdog"/> standing in for
/// softdog, which "resets" the host by ending its process) only while it is a healthy member. A hung host stops
/// petting and is reset by its own watchdog; the fencer counts it fenced once the watchdog's timeout and the margin
/// have passed since it was downed, and only then do its VMs start elsewhere.
/// </summary>
public sealed class WatchdogFailoverTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);
    private readonly TempDirectory _dir = new("virt-watchdog");
    private readonly List<TestWatchdog> _watchdogs = [];
    private NodeCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            var node = i;
            _watchdogs.Add(new TestWatchdog(_dir.File($"{NodeCluster.Name(i)}.watchdog"), Timeout, () => _cluster[node].Kill()));
        }

        var postgres = await (await PostgresServer.Shared).CreateDatabase("watchdog");
        _cluster = await NodeCluster.Start(postgres, [(8, 8192), (8, 8192), (8, 8192)], i => [$"virt.fencing.watchdog.device={_watchdogs[i].Path}"],
            "virt.fencing.levels=[watchdog]", $"virt.fencing.watchdog.timeout={Timeout.TotalSeconds}s", "virt.fencing.watchdog.margin=2s");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        foreach (var w in _watchdogs)
            w.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_hung_host_is_reset_by_its_own_watchdog_and_its_vms_start_elsewhere_only_after_its_timeout_and_the_margin()
    {
        await Eventually.Until(() => Task.FromResult(_watchdogs.All(w => w.Armed)), armed => armed, "every node pets its watchdog", 30);
        await Eventually.Until(async () =>
        {
            using var response = await _cluster[0].Http.GetAsync("/v1/fences");
            return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!["hosts"]!.AsArray() : [];
        }, hosts => hosts.Count(h => h!["watchdogTimeoutMs"]?.GetValue<long>() == 4000) == 3, "the fencer knows every host's watchdog", 30);
        foreach (var vm in new[] { "hung-1", "hung-2" })
        {
            Assert.Equal(HttpStatusCode.Created, (await _cluster[0].Http.PostAsJsonAsync("/v1/vms", new { name = vm, vcpus = 1, memory = "256MiB" })).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await _cluster[0].Http.PostAsync($"/v1/vms/{vm}/start?node=hv-3", null)).StatusCode);
        }

        await Eventually.Until(() => _cluster[2].RunningDomains(), r => r.SetEquals(["hung-1", "hung-2"]), "both VMs run on hv-3", 60);

        _cluster[2].Signal(Posix.SigStop); // hung: it pets nothing any more

        var fence = await Eventually.Until(async () => (await _cluster[0].Fences())?.FirstOrDefault(f => f!["host"]!.GetValue<string>() == "hv-3" && f["state"]!.GetValue<string>() == "fenced"), f => f is not null, "hv-3 is fenced", 90);
        Assert.Equal("watchdog", fence!["level"]!.GetValue<string>());
        Assert.True(_watchdogs[2].Fired); // its watchdog reset it before the fence was counted
        Assert.False(_watchdogs[0].Fired || _watchdogs[1].Fired); // the healthy ones went on petting
        var downedAt = fence["membershipEnded"]!.GetValue<DateTimeOffset>();
        Assert.True(fence["fencedAt"]!.GetValue<DateTimeOffset>() >= downedAt + Timeout + TimeSpan.FromSeconds(2), fence.ToJsonString());

        await Eventually.Until(async () => (await _cluster[0].RunningDomains()).Concat(await _cluster[1].RunningDomains()).ToList(),
            r => r.Count(n => n == "hung-1") == 1 && r.Count(n => n == "hung-2") == 1, "both VMs run once, on the survivors", 60);
    }
}
