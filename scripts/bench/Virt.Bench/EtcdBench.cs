using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Virt.Actors.Cluster.Coordination;
using Virt.Actors.Cluster.Etcd;
using Virt.Tests.Support;

namespace Virt.Bench;

/// <summary>
/// Issue 4's figures on a real 3-member etcd cluster on loopback: Put / Range / Txn latency, watch delivery latency,
/// and how long the balancer singleton takes to move after its holder (a virt-node process) is killed.
/// </summary>
internal static class EtcdBench
{
    private const int Calls = 2_000;

    public static async Task Run()
    {
        await using var etcd = await EtcdCluster.StartAsync();
        await using var store = new EtcdCoordination(new EtcdOptions { Endpoints = [.. etcd.Endpoints] }, NullLogger.Instance);
        await CallLatency(store);
        await WatchLatency(store, etcd);
        await Takeover(etcd, store, kills: 5);
    }

    private static async Task CallLatency(EtcdCoordination store)
    {
        var value = new byte[128];
        for (var i = 0; i < 200; i++)
            await store.PutAsync($"/bench/warm/{i}", value); // connections, JIT
        await Measure("Put, 128-byte value", i => store.PutAsync($"/bench/put/{i % 100}", value));
        await Measure("Range, one key, linearizable", i => store.GetAsync($"/bench/put/{i % 100}"));
        var revision = (await store.GetAsync("/bench/put/0"))!.ModRevision;
        await Measure("Txn, compare-and-swap", async _ =>
        {
            var swapped = await store.CompareAndSwapAsync("/bench/put/0", revision, value);
            revision = swapped.Succeeded ? swapped.Current!.ModRevision : throw new InvalidOperationException("the CAS chain broke");
        });
    }

    private static async Task Measure(string what, Func<int, Task> call)
    {
        var latencies = new List<double>(Calls);
        var total = Stopwatch.StartNew();
        for (var i = 0; i < Calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call(i);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        latencies.Sort();
        Report.Line($"{what}: p50 / p99 ({Calls:N0} calls)", $"{Report.Percentile(latencies, 50):0.00} / {Report.Percentile(latencies, 99):0.00} ms");
        Report.Line($"{what}: calls/s, one caller", Calls / total.Elapsed.TotalSeconds, "calls/s");
    }

    /// <summary>From just before a Put is sent (by another client) to the watcher's receipt of its event.</summary>
    private static async Task WatchLatency(EtcdCoordination store, EtcdCluster etcd)
    {
        await using var writer = new EtcdCoordination(new EtcdOptions { Endpoints = [etcd.Endpoint(1)] }, NullLogger.Instance);
        var from = (await store.ListAsync("/bench/watch/")).Revision + 1;
        using var stop = new CancellationTokenSource();
        var received = new Dictionary<int, long>();
        var arrived = new SemaphoreSlim(0);
        var watching = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in store.WatchAsync("/bench/watch/", from, stop.Token))
                {
                    received[int.Parse(Encoding.UTF8.GetString(e.Entry.Value))] = Stopwatch.GetTimestamp();
                    arrived.Release();
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        var latencies = new List<double>();
        for (var i = 0; i < 1_000; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            await writer.PutAsync("/bench/watch/k", Encoding.UTF8.GetBytes($"{i}"));
            if (!await arrived.WaitAsync(TimeSpan.FromSeconds(10)))
                throw new TimeoutException($"event {i} never arrived");
            latencies.Add(Stopwatch.GetElapsedTime(sent, received[i]).TotalMilliseconds);
        }

        stop.Cancel();
        await watching;
        latencies.Sort();
        Report.Line("watch delivery, put sent -> event seen: p50 / p99", $"{Report.Percentile(latencies, 50):0.00} / {Report.Percentile(latencies, 99):0.00} ms");
    }

    /// <summary>Two virt-node processes with lease TTL 2 s; SIGKILL the balancer's holder, time until the other holds it.</summary>
    private static async Task Takeover(EtcdCluster etcd, EtcdCoordination store, int kills)
    {
        using var dir = new TempDirectory("virt-bench-takeover");
        var nodes = new Dictionary<string, ChildProcess>();
        var key = CoordinationKeys.Singleton("balancer");
        try
        {
            foreach (var name in new[] { "node-a", "node-b" })
                nodes[name] = await StartNode(dir.Path, name, etcd);
            var times = new List<double>();
            for (var k = 0; k < kills; k++)
            {
                var holder = await HolderAsync(store, key) ?? throw new InvalidOperationException("nobody holds the balancer");
                var other = nodes.Keys.Single(n => n != holder);
                var revision = (await store.ListAsync(key)).Revision + 1;
                using var watch = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                var takenOver = FirstPut(store, key, revision, other, watch.Token);
                var killed = Stopwatch.GetTimestamp();
                nodes[holder].Kill();
                var at = await takenOver;
                times.Add(Stopwatch.GetElapsedTime(killed, at).TotalMilliseconds);
                nodes[holder] = await StartNode(dir.Path, holder, etcd); // back as a new incarnation, for the next round
            }

            times.Sort();
            Report.Line($"balancer takeover after SIGKILL, TTL 2 s ({kills} kills)",
                $"median {Report.Percentile(times, 50):0} ms, max {times[^1]:0} ms", "< TTL + 1 s = 3000 ms");
        }
        finally
        {
            foreach (var node in nodes.Values)
                node.Dispose();
        }
    }

    private static async Task<long> FirstPut(EtcdCoordination store, string key, long from, string holder, CancellationToken cancellationToken)
    {
        await foreach (var e in store.WatchAsync(key, from, cancellationToken))
        {
            if (e.Kind == WatchEventKind.Put && Encoding.UTF8.GetString(e.Entry.Value) == holder)
                return Stopwatch.GetTimestamp();
        }

        throw new InvalidOperationException("the watch ended");
    }

    private static async Task<string?> HolderAsync(EtcdCoordination store, string key) =>
        await store.GetAsync(key) is { } entry ? Encoding.UTF8.GetString(entry.Value) : null;

    private static async Task<ChildProcess> StartNode(string root, string name, EtcdCluster etcd)
    {
        var data = Path.Combine(root, name);
        Directory.CreateDirectory(data);
        var host = Path.Combine(data, "host.xml");
        await File.WriteAllTextAsync(host, "<node><cpu><mhz>2000</mhz><model>bench</model><active>8</active><max>8</max><nodes>1</nodes><sockets>1</sockets><cores>8</cores><threads>1</threads></cpu><memory>16777216</memory></node>");
        var process = ChildProcess.Start(ChildProcess.Dotnet,
        [
            Binaries.VirtNode,
            "--set", $"virt.data-dir={data}",
            "--set", $"virt.libvirt.uri=test://{host}",
            "--set", "virt.api.listen=127.0.0.1:0",
            "--set", $"virt.node.name={name}",
            "--set", $"virt.cluster.etcd.endpoints={string.Join(',', etcd.Endpoints)}",
            "--set", "virt.cluster.lease-ttl=2s",
            "--set", "virt.cluster.keepalive-interval=500ms",
            "--set", "virt.cluster.lease-safety-margin=500ms",
        ]);
        var line = await process.WaitForLine(l => l.Contains("Now listening on: http://"), TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri(line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim()) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await http.GetAsync("/v1/health")).IsSuccessStatusCode)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{name} did not join: {await http.GetFromJsonAsync<JsonNode>("/v1/cluster")}");
            await Task.Delay(20);
        }

        return process;
    }
}
