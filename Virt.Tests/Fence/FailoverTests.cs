using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Fence;

/// <summary>
/// Three real virt-node processes with power fencing by the test fence agent (it SIGKILLs every process of a test
/// host): a lost host is fenced, and only then do its HA VMs start on the others, by their restart policy; the
/// fence is recorded against the host's incarnation. Where VMs run is read from each survivor's libvirt.
/// </summary>
public sealed class FailoverTests : IAsyncLifetime
{
    private readonly TempDirectory _state = new("virt-fence-state");
    private NodeCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var postgres = await (await PostgresServer.Shared).CreateDatabase("failover");
        var hosts = string.Join(", ", Enumerable.Range(0, 3).Select(i =>
            $"\"{NodeCluster.Name(i)}\" {{ agent = \"{TestFenceAgent.Path}\", args {{ plug = \"{NodeCluster.Name(i)}\", state_dir = \"{_state.Path}\" }} }}"));
        _cluster = await NodeCluster.Start(postgres, [(8, 8192), (8, 8192), (8, 8192)], "virt.fencing.levels=[power]", $"virt.fencing.power.hosts={{ {hosts} }}", "virt.fencing.power.off-wait=5s");
        for (var i = 0; i < 3; i++)
            Register(i);
    }

    /// <summary>The test host is its virt-node process (its test-driver domains live inside it).</summary>
    private void Register(int node) => TestFenceAgent.WriteHost(_state.Path, NodeCluster.Name(node), [_cluster[node].Pid!.Value]);

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _state.Dispose();
    }

    private async Task Create(string vm, string node, string restart = "always", int priority = 0)
    {
        var created = await _cluster[0].Http.PostAsJsonAsync("/v1/vms", new { name = vm, vcpus = 1, memory = "256MiB", restart, priority });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var started = await _cluster[0].Http.PostAsync($"/v1/vms/{vm}/start?node={node}", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
    }

    private async Task<JsonNode> Fence(VirtNodeProcess asked, string host, Func<JsonNode, bool> match, string what) =>
        (await Eventually.Until(async () => (await asked.Fences())?.FirstOrDefault(f => f!["host"]!.GetValue<string>() == host && match(f!)), f => f is not null, what, 60))!;

    /// <summary>On failure: what the survivors say of the fences and the VMs, and what they logged about them.</summary>
    private async Task<string> Story(IReadOnlyList<string> vms)
    {
        var lines = new List<string> { "fences: " + (await _cluster[0].Fences())?.ToJsonString() };
        foreach (var vm in vms)
            lines.Add($"{vm}: " + await (await _cluster[0].Http.GetAsync($"/v1/vms/{vm}")).Content.ReadAsStringAsync());
        for (var i = 0; i < 2; i++)
            lines.AddRange(_cluster[i].Log.Where(l => l.Contains("ence") || l.Contains("alancer") || l.Contains("host hv-") || vms.Any(l.Contains) || l.Contains("ERROR") || l.Contains("WARN"))
                .TakeLast(60).Select(l => $"{NodeCluster.Name(i)}: {l}"));
        return string.Join("\n", lines);
    }

    [Fact]
    public async Task Kill_9_of_a_host_gets_it_power_fenced_and_its_vms_started_on_the_others_by_their_restart_policy()
    {
        await Create("db-1", "hv-3", priority: 100);
        await Create("web-1", "hv-3", "on-failure");
        await Create("batch-1", "hv-3", "never");
        await Create("other", "hv-1");
        await Eventually.Until(() => _cluster[2].RunningDomains(), r => r.SetEquals(["db-1", "web-1", "batch-1"]), "three VMs run on hv-3", 60);
        var incarnation = (await _cluster[0].Get("/v1/cluster"))["members"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "hv-3")!["incarnation"]!.GetValue<long>();

        _cluster[2].Kill();

        // Read from the survivors' libvirt: the HA VMs run again, each on one survivor only; the never-restart one nowhere.
        var survivors = await Eventually.Until(async () => (await _cluster[0].RunningDomains()).Concat(await _cluster[1].RunningDomains()).ToList(),
            r => r.Contains("db-1") && r.Contains("web-1"), "db-1 and web-1 run on a survivor", 90, () => Story(["db-1", "web-1"]));
        Assert.Equal(1, survivors.Count(n => n == "db-1"));
        Assert.Equal(1, survivors.Count(n => n == "web-1"));
        Assert.DoesNotContain("batch-1", survivors);

        var fence = await Fence(_cluster[1], "hv-3", f => f["state"]!.GetValue<string>() == "fenced", "hv-3 is fenced");
        Assert.Equal(("power", incarnation), (fence["level"]!.GetValue<string>(), fence["incarnation"]!.GetValue<long>()));
        Assert.Contains("status off", fence["evidence"]!.GetValue<string>());

        var batch = await Eventually.Until(() => _cluster[0].Get("/v1/vms/batch-1"), v => v["state"]!.GetValue<string>() == "stopped", "batch-1 is stopped", 30);
        Assert.Contains("restart policy never leaves it stopped", batch["lastError"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await _cluster[0].Http.GetAsync("/v1/vms/other")).StatusCode);
        Assert.Contains("other", await _cluster[0].RunningDomains()); // untouched
    }

    [Fact]
    public async Task A_sigstopped_host_is_fenced_before_its_vms_start_elsewhere_and_runs_none_of_them_when_it_is_continued()
    {
        await Create("app-1", "hv-3");
        await Create("app-2", "hv-3");
        await Eventually.Until(() => _cluster[2].RunningDomains(), r => r.SetEquals(["app-1", "app-2"]), "two VMs run on hv-3", 60);

        _cluster[2].Signal(Posix.SigStop);

        await Fence(_cluster[0], "hv-3", f => f["state"]!.GetValue<string>() == "fenced", "hv-3 is fenced");
        Assert.True(_cluster[2].IsDead); // the power fence ended every process of the host before it was confirmed
        _cluster[2].Signal(Posix.SigCont);
        await Eventually.Until(async () => (await _cluster[0].RunningDomains()).Concat(await _cluster[1].RunningDomains()).ToList(),
            r => r.Count(n => n == "app-1") == 1 && r.Count(n => n == "app-2") == 1, "app-1 and app-2 run once, on the survivors", 90);
    }

    [Fact]
    public async Task A_fenced_host_rejoins_as_a_new_incarnation_runs_nothing_twice_and_a_second_loss_is_a_second_fence()
    {
        await Create("svc-1", "hv-3");
        await Eventually.Until(() => _cluster[2].RunningDomains(), r => r.Contains("svc-1"), "svc-1 runs on hv-3", 60);
        _cluster[2].Kill();
        var first = await Fence(_cluster[0], "hv-3", f => f["state"]!.GetValue<string>() == "fenced", "hv-3 is fenced");
        await Eventually.Until(async () => (await _cluster[0].RunningDomains()).Concat(await _cluster[1].RunningDomains()).ToList(), r => r.Contains("svc-1"), "svc-1 runs on a survivor", 90);

        await _cluster[2].Start();
        Register(2);
        Assert.DoesNotContain("svc-1", await _cluster[2].RunningDomains());
        var view = await _cluster[2].Get("/v1/vms/svc-1");
        Assert.NotEqual("hv-3", view["node"]!.GetValue<string>());

        // Back on hv-3 by the operator, then lost again: a new record, for the new incarnation.
        await _cluster[0].Http.PostAsync("/v1/vms/svc-1/stop?force=true", null);
        await Eventually.Until(() => _cluster[0].Get("/v1/vms/svc-1"), v => v["state"]!.GetValue<string>() == "stopped", "svc-1 stopped", 30);
        Assert.Equal(HttpStatusCode.Accepted, (await _cluster[0].Http.PostAsync("/v1/vms/svc-1/start?node=hv-3", null)).StatusCode);
        await Eventually.Until(() => _cluster[2].RunningDomains(), r => r.Contains("svc-1"), "svc-1 runs on hv-3 again", 60);
        _cluster[2].Kill();
        var second = await Fence(_cluster[0], "hv-3", f => f["incarnation"]!.GetValue<long>() != first["incarnation"]!.GetValue<long>() && f["state"]!.GetValue<string>() == "fenced", "hv-3's new incarnation is fenced");
        Assert.Equal("power", second["level"]!.GetValue<string>());
        await Eventually.Until(async () => (await _cluster[0].RunningDomains()).Concat(await _cluster[1].RunningDomains()).ToList(), r => r.Count(n => n == "svc-1") == 1, "svc-1 runs once on a survivor", 90);
    }
}
