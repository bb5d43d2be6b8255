using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Virt.Actors.Balancer;
using Virt.Actors.Vm;
using Virt.Tests.Support;

namespace Virt.Bench;

/// <summary>
/// Issue 9's figures: the balancer's decision for one start with 1,000 VMs on 3 hosts (the pure admission plan);
/// then with three real virt-node processes on one PostgreSQL: time for them to form a cluster, commands per second
/// through a node that does not host the VMs' entities, and the balancer's takeover after kill -9 of its node.
/// </summary>
internal static class ClusterBench
{
    public static async Task Run()
    {
        Decisions();
        var postgres = await (await PostgresServer.Shared).CreateDatabase("bench_cluster");
        var sw = Stopwatch.StartNew();
        await using var cluster = await NodeCluster.Start(postgres, [(64, 262144), (64, 262144), (64, 262144)]);
        Report.Line("3 virt-node processes: start until every node is healthy (s)", $"{sw.Elapsed.TotalSeconds:F2} s");
        await Commands(cluster);
        await Takeover(cluster);
    }

    private static void Decisions()
    {
        var hosts = Enumerable.Range(1, 3).Select(i => new BalancerProtocol.HostReport($"hv-{i}", 256, 1 << 21, new Dictionary<string, string>(), HostState.Up, true)).ToList();
        var vms = Enumerable.Range(0, 1_000).Select(i => VmState.Absent with
        {
            Phase = VmPhase.Running, Node = $"hv-{i % 3 + 1}", Spec = new VmSpec($"vm{i:0000}", Guid.NewGuid(), 1, 1024, [], []),
        }).ToList();
        var picture = new BalancerPicture(hosts, vms, [], [], new BalancerOptions(), DateTimeOffset.UtcNow);
        var request = new BalancerProtocol.PlaceVm("new", 1, 2, 2048, 0, true);
        for (var i = 0; i < 50; i++)
            AdmissionPlan.Decide([request], picture);
        var times = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var t = Stopwatch.GetTimestamp();
            AdmissionPlan.Decide([request], picture);
            times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        times.Sort();
        Report.Line("balancer decision for one start, 1,000 VMs on 3 hosts: p50 / p99 (ms)", $"{Report.Percentile(times, 50):F2} / {Report.Percentile(times, 99):F2}");
    }

    /// <summary>Start/stop commands sent to hv-1 for VMs whose entities live on hv-2 or hv-3: sharding carries each to its entity.</summary>
    private static async Task Commands(NodeCluster cluster)
    {
        var api = cluster[0].Http;
        for (var i = 0; i < 600; i++)
            (await api.PostAsJsonAsync("/v1/vms", new { name = $"c{i:000}", vcpus = 1, memory = "128MiB" })).EnsureSuccessStatusCode();
        var remote = new List<string>();
        foreach (var i in Enumerable.Range(0, 600))
        {
            var view = await cluster[0].Get($"/v1/vms/c{i:000}");
            if (view["entityNode"]!.GetValue<string>() != "hv-1")
                remote.Add($"c{i:000}");
        }

        var latencies = new List<double>();
        var sw = Stopwatch.StartNew();
        foreach (var verb in new[] { "start", "stop" })
        {
            await Parallel.ForEachAsync(remote, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (vm, _) =>
            {
                var t = Stopwatch.GetTimestamp();
                var response = await api.PostAsync($"/v1/vms/{vm}/{verb}?force=true", null);
                var ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.Accepted)
                    throw new InvalidOperationException($"{verb} {vm}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                lock (latencies)
                    latencies.Add(ms);
            });
        }

        var rate = 2 * remote.Count / sw.Elapsed.TotalSeconds;
        latencies.Sort();
        Report.Line($"commands through a node that does not host the entity ({remote.Count} VMs, 32 clients)", rate, "cmd/s");
        Report.Line("  ... ack latency p50 / p99 (ms)", $"{Report.Percentile(latencies, 50):F1} / {Report.Percentile(latencies, 99):F1}");
    }

    /// <summary>kill -9 of the balancer's node; time until a start through a survivor is placed again.</summary>
    private static async Task Takeover(NodeCluster cluster)
    {
        var holder = (await cluster[0].Get("/v1/cluster"))["singletons"]!["balancer"]!.GetValue<string>();
        var index = int.Parse(holder["hv-".Length..]) - 1;
        var survivor = cluster[(index + 1) % 3];
        (await survivor.Http.PostAsJsonAsync("/v1/vms", new { name = "after-takeover", vcpus = 1, memory = "128MiB" })).EnsureSuccessStatusCode();
        var sw = Stopwatch.StartNew();
        cluster[index].Kill();
        HttpStatusCode status;
        do
        {
            using var response = await survivor.Http.PostAsync("/v1/vms/after-takeover/start", null);
            status = response.StatusCode;
        }
        while (status != HttpStatusCode.Accepted && sw.Elapsed < TimeSpan.FromMinutes(2));
        Report.Line($"balancer takeover after kill -9 of its node ({holder}): until a start is placed (s)", $"{sw.Elapsed.TotalSeconds:F2} s");
    }
}
