using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Virt.Actors.Vm;
using Virt.Node.Configuration;
using Virt.Node.Hosting;

namespace Virt.Bench;

/// <summary>
/// Lifecycle figures (issues 3 and 8): commands through the whole pipeline, API -> entity -> journal -> balancer ->
/// libvirt (throughput, and latency at 1,000 cmd/s), cold start with 10,000 VMs in the journal until every VM is
/// reconciled, and memory per idle VM entity.
/// </summary>
internal static class LifecycleBench
{
    public static async Task Run()
    {
        var dir = Directory.CreateTempSubdirectory("virt-bench-node-");
        try
        {
            await Commands(Path.Combine(dir.FullName, "commands"), vms: 1_000, clients: 32);
            await ColdStartAndMemory(Path.Combine(dir.FullName, "cold"), vms: 10_000);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static string HostFile(string dir)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "host.xml");
        File.WriteAllText(path, "<node><cpu><mhz>2000</mhz><model>bench</model><active>512</active><max>512</max><nodes>1</nodes><sockets>1</sockets><cores>512</cores><threads>1</threads></cpu><memory>4294967296</memory></node>");
        return "test://" + path;
    }

    /// <summary>
    /// Start and stop commands through the API: acknowledged once the journal write (fsync on) is done, then carried
    /// out by the node agent on libvirt's test driver; a command is done when the event stream (/v1/events/stream, read
    /// as any client would) delivers its outcome. The first start of a VM also defines its domain, which libvirt checks
    /// against its schema (~5 ms on the test driver, once per spec): reported apart. Then flat out with 32 clients
    /// (throughput), then paced at the target rate, open loop (latency at that rate).
    /// </summary>
    private static async Task Commands(string dir, int vms, int clients)
    {
        var uri = HostFile(dir);
        var resolved = NodeConfiguration.Load(null, [$"virt.data-dir={dir}", $"virt.libvirt.uri={uri}", "virt.api.listen=127.0.0.1:0", "virt.cluster.listen=127.0.0.1:0", "virt.node.name=bench"], _ => null);
        await using var app = NodeDaemon.Build(resolved);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        while (!(await http.GetAsync("/v1/health")).IsSuccessStatusCode)
            await Task.Delay(10);
        await Parallel.ForEachAsync(Enumerable.Range(0, vms), new ParallelOptions { MaxDegreeOfParallelism = clients }, async (i, _) =>
            (await http.PostAsJsonAsync("/v1/vms", new { name = Vm(i), vcpus = 1, memory = "256MiB" })).EnsureSuccessStatusCode());

        using var stop = new CancellationTokenSource();
        var outcomes = new Outcomes();
        // The stream starts after the newest event as of now, read before any command is sent: a start whose outcome
        // lands before the stream is open is still delivered (reading the offset inside the reader raced the starts).
        var latest = ((JsonArray)(await http.GetFromJsonAsync<JsonNode>("/v1/events?limit=1"))!).LastOrDefault()?["offset"]?.GetValue<long>() ?? 0;
        var reading = ReadOutcomes(address, latest, outcomes, stop.Token);

        var first = await Round(http, outcomes, vms, "start", i => Task.CompletedTask, clients);
        Report.Line("first start of each VM (define + schema check + start), done", vms / first.Elapsed.TotalSeconds, "cmd/s");

        var acked = TimeSpan.Zero;
        var finished = TimeSpan.Zero;
        var ackLatencies = new List<double>();
        for (var round = 1; round <= 4; round++)
        {
            var r = await Round(http, outcomes, vms, round % 2 == 1 ? "stop" : "start", _ => Task.CompletedTask, clients);
            (acked, finished) = (acked + r.Acked, finished + r.Elapsed);
            ackLatencies.AddRange(r.AckMs);
        }

        ackLatencies.Sort();
        Report.Line($"start/stop flat out, {clients} clients, {vms:N0} VMs: acknowledged", 4 * vms / acked.TotalSeconds, "cmd/s", ">= 1,000");
        Report.Line("  ... and carried out by libvirt (outcome in the event stream)", 4 * vms / finished.TotalSeconds, "cmd/s", ">= 1,000");
        Report.Line("  ... ack latency under that load, p50 / p99 (ms)", $"{Report.Percentile(ackLatencies, 50):F1} / {Report.Percentile(ackLatencies, 99):F1}");

        const double rate = 1_000;
        var paced = new List<Result>();
        var t0 = Stopwatch.GetTimestamp();
        for (var round = 0; round < 4; round++)
        {
            paced.Add(await Round(http, outcomes, vms, round % 2 == 0 ? "stop" : "start", async i =>
            {
                var due = TimeSpan.FromSeconds(i / rate) - Stopwatch.GetElapsedTime(t0);
                if (due > TimeSpan.Zero)
                    await Task.Delay(due);
            }, concurrency: vms));
            t0 = Stopwatch.GetTimestamp();
        }

        var ack = paced.SelectMany(r => r.AckMs).Order().ToList();
        var done = paced.SelectMany(r => r.DoneMs).Order().ToList();
        Report.Line($"paced at {rate:N0} cmd/s: ack latency p50 / p99 (ms)", $"{Report.Percentile(ack, 50):F1} / {Report.Percentile(ack, 99):F1}", "p99 < 20 ms");
        Report.Line($"paced at {rate:N0} cmd/s: command to outcome p50 / p99 (ms)", $"{Report.Percentile(done, 50):F1} / {Report.Percentile(done, 99):F1}");

        stop.Cancel();
        await reading;
        await app.StopAsync();
    }

    private static string Vm(int i) => $"vm{i:0000}";

    private sealed record Result(TimeSpan Acked, TimeSpan Elapsed, double[] AckMs, double[] DoneMs);

    /// <summary>One command per VM (each sent after <paramref name="pace"/>), until every outcome has been streamed.</summary>
    private static async Task<Result> Round(HttpClient http, Outcomes outcomes, int vms, string verb, Func<int, Task> pace, int concurrency)
    {
        var all = outcomes.Expect(verb == "start" ? "started" : "stopped", vms);
        var sent = new long[vms];
        var ackMs = new double[vms];
        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, vms), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) =>
        {
            await pace(i);
            sent[i] = Stopwatch.GetTimestamp();
            (await http.PostAsync($"/v1/vms/{Vm(i)}/{verb}", null)).EnsureSuccessStatusCode();
            ackMs[i] = Stopwatch.GetElapsedTime(sent[i]).TotalMilliseconds;
        });
        var acked = sw.Elapsed;
        var at = await all.WaitAsync(TimeSpan.FromMinutes(2));
        return new Result(acked, sw.Elapsed, ackMs, Enumerable.Range(0, vms).Select(i => Stopwatch.GetElapsedTime(sent[i], at[Vm(i)]).TotalMilliseconds).ToArray());
    }

    /// <summary>Follows /v1/events/stream and notes when each VM's outcome of the expected kind arrives.</summary>
    private static async Task ReadOutcomes(string address, long latest, Outcomes outcomes, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
        try
        {
            using var response = await client.GetAsync($"/v1/events/stream?after={latest}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    continue;
                var e = JsonNode.Parse(line[6..])!;
                outcomes.Seen(e["vm"]!.GetValue<string>(), e["type"]!.GetValue<string>());
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class Outcomes
    {
        private readonly object _gate = new();
        private string _kind = "";
        private int _left;
        private Dictionary<string, long> _at = [];
        private TaskCompletionSource<Dictionary<string, long>> _done = new();

        public Task<Dictionary<string, long>> Expect(string kind, int count)
        {
            lock (_gate)
            {
                (_kind, _left, _at) = (kind, count, new Dictionary<string, long>(count));
                _done = new TaskCompletionSource<Dictionary<string, long>>(TaskCreationOptions.RunContinuationsAsynchronously);
                return _done.Task;
            }
        }

        public void Seen(string vm, string kind)
        {
            lock (_gate)
            {
                if (kind != _kind || !_at.TryAdd(vm, Stopwatch.GetTimestamp()))
                    return;
                if (--_left == 0)
                    _done.TrySetResult(_at);
            }
        }
    }

    /// <summary>
    /// Fills a journal with 10,000 VMs (half of them running) through an in-process virt-node, then starts a virt-node
    /// process on it and times until every VM is reconciled: the API lists them all, each settled (the running half
    /// found gone from the fresh test-driver host and started again, the rest stopped), and libvirt runs the running
    /// half. Then the heap cost of an idle VM entity, from an in-process node recovered on the same journal.
    /// </summary>
    private static async Task ColdStartAndMemory(string dir, int vms)
    {
        var uri = HostFile(dir);
        var settings = new[] { $"virt.data-dir={dir}", $"virt.libvirt.uri={uri}", "virt.api.listen=127.0.0.1:0", "virt.cluster.listen=127.0.0.1:0", "virt.node.name=bench", "virt.persistence.sqlite.synchronous=normal",
            "virt.balancer.overcommit.vcpu=16" }; // 5,000 running 1-vCPU VMs on the 512-CPU host: admission would refuse them at 4x
        await Populate(NodeConfiguration.Load(null, settings, _ => null), vms);

        var node = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "Virt.Node", "bin", "Release", "net10.0", "virt-node.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { node, "--set", $"virt.data-dir={dir}", "--set", $"virt.libvirt.uri={uri}", "--set", "virt.api.listen=127.0.0.1:19876", "--set", "virt.cluster.listen=127.0.0.1:0", "--set", "virt.balancer.overcommit.vcpu=16",
            "--set", "virt.node.name=bench" }) // the same host as the journal's VMs ran on (another name: they wait for that host's fence)
            info.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:19876"), Timeout = TimeSpan.FromSeconds(60) };
        TimeSpan? listed = null;
        while (true)
        {
            if (sw.Elapsed > TimeSpan.FromMinutes(5))
                throw new TimeoutException($"cold start: not every VM was reconciled within 5 minutes (listed after {listed?.TotalSeconds:F1} s)");
            try
            {
                var all = (JsonArray)(await http.GetFromJsonAsync<JsonNode>("/v1/vms"))!;
                if (all.Count == vms)
                    listed ??= sw.Elapsed;
                var running = all.Count(v => v!["state"]!.GetValue<string>() == "running");
                if (all.Count == vms && all.All(v => v!["state"]!.GetValue<string>() is "running" or "stopped") && running == vms / 2)
                {
                    var domains = (await http.GetFromJsonAsync<JsonNode>("/v1/node"))!["domains"]!.AsArray().Count(d => d!["state"]!.GetValue<string>() == "running");
                    if (domains == vms / 2)
                        break;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(20);
        }

        Report.Line($"cold start, {vms:N0} VMs in the journal: all listed (s)", $"{listed!.Value.TotalSeconds:F2} s");
        Report.Line($"cold start, {vms:N0} VMs: every VM reconciled, half restarted (s)", $"{sw.Elapsed.TotalSeconds:F2} s", "< 5 s");
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();

        // Memory: the same journal recovered in this process, against a node with no VMs.
        var empty = Path.Combine(dir, "empty");
        var baseline = await HeapOfNode(NodeConfiguration.Load(null, [.. settings, $"virt.data-dir={empty}"], _ => null), 0);
        var full = await HeapOfNode(NodeConfiguration.Load(null, settings, _ => null), vms);
        Report.Line($"memory per idle VM entity ({vms:N0} recovered; shard and index entries included)", (full - baseline) / (double)vms / 1024, "KiB", "< 16 KiB");
    }

    /// <summary>Creates the VMs through the shard region (the API's own path, without HTTP) and starts every other one.</summary>
    private static async Task Populate(Virt.Hocon.HoconObject resolved, int vms)
    {
        await using var app = NodeDaemon.Build(resolved);
        await app.StartAsync();
        var region = app.Services.GetRequiredService<ActorRegistry>().Get<VmRegion>();
        await Parallel.ForEachAsync(Enumerable.Range(0, vms), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            var name = $"vm{i:00000}";
            var created = await region.Ask<VmProtocol.Result>(new VmProtocol.Command(name, new VmCommand.Define(new VmSpec(name, Guid.NewGuid(), 1, 256, [], []))), TimeSpan.FromMinutes(1));
            if (!created.Accepted)
                throw new InvalidOperationException(created.Reason);
            if (i % 2 == 0 && await region.Ask<VmProtocol.Result>(new VmProtocol.Command(name, new VmCommand.Start()), TimeSpan.FromMinutes(1)) is { Accepted: false } refused)
                throw new InvalidOperationException($"{name} did not start: {refused.Reason}");
        });
        await app.StopAsync();
    }

    /// <summary>The managed heap of a node recovered on <paramref name="resolved"/>'s journal once every one of its <paramref name="vms"/> entities runs.</summary>
    private static async Task<long> HeapOfNode(Virt.Hocon.HoconObject resolved, int vms)
    {
        await using var app = NodeDaemon.Build(resolved);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        while (!(await http.GetAsync("/v1/health")).IsSuccessStatusCode || ((JsonArray)(await http.GetFromJsonAsync<JsonNode>("/v1/vms"))!).Count != vms)
            await Task.Delay(50);
        var heap = Heap();
        await app.StopAsync();
        return heap;
    }

    private static long Heap()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
