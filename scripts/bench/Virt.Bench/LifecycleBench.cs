using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Virt.Actors.Persistence;
using Virt.Actors.Persistence.Sqlite;
using Virt.Actors.Runtime;
using Virt.Actors.Vm;
using Virt.Hocon;
using Virt.Node.Hosting;

namespace Virt.Bench;

/// <summary>Issue 3's figures: lifecycle commands through the whole pipeline (throughput, and latency at 1,000 cmd/s), cold start with 10,000 VMs, memory per VM actor.</summary>
internal static class LifecycleBench
{
    public static async Task Run()
    {
        var dir = Directory.CreateTempSubdirectory("virt-bench-node-");
        try
        {
            await Commands(Path.Combine(dir.FullName, "commands"), vms: 1_000, clients: 32);
            await ColdStart(Path.Combine(dir.FullName, "cold"), vms: 10_000);
            await MemoryPerVm(Path.Combine(dir.FullName, "memory"), vms: 10_000);
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
        var resolved = NodeConfiguration.Load(null, [$"virt.data-dir={dir}", $"virt.libvirt.uri={uri}", "virt.api.listen=127.0.0.1:0", "virt.node.name=bench"], _ => null);
        await using var app = NodeDaemon.Build(new ConfigurationBuilder().AddHocon(resolved).Build());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        while (!(await http.GetAsync("/v1/health")).IsSuccessStatusCode)
            await Task.Delay(10);
        await Parallel.ForEachAsync(Enumerable.Range(0, vms), new ParallelOptions { MaxDegreeOfParallelism = clients }, async (i, _) =>
            (await http.PostAsJsonAsync("/v1/vms", new { name = Vm(i), vcpus = 1, memory = "256MiB" })).EnsureSuccessStatusCode());

        using var stop = new CancellationTokenSource();
        var outcomes = new Outcomes();
        var reading = ReadOutcomes(address, outcomes, stop.Token);

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
    private static async Task ReadOutcomes(string address, Outcomes outcomes, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
        var latest = ((JsonArray)(await client.GetFromJsonAsync<JsonNode>("/v1/events?limit=1", cancellationToken))!).LastOrDefault()?["offset"]?.GetValue<long>() ?? 0;
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

    /// <summary>A journal holding 10,000 VMs (half desired running); a virt-node process started on it, timed until the API lists them all.</summary>
    private static async Task ColdStart(string dir, int vms)
    {
        var uri = HostFile(dir);
        await Populate(Path.Combine(dir, "journal.db"), vms);
        var node = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "..", "Virt.Node", "bin", "Release", "net10.0", "virt-node.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { node, "--set", $"virt.data-dir={dir}", "--set", $"virt.libvirt.uri={uri}", "--set", "virt.api.listen=127.0.0.1:19876" })
            info.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:19876"), Timeout = TimeSpan.FromSeconds(30) };
        TimeSpan? firstAnswer = null;
        while (true)
        {
            try
            {
                var response = await http.GetAsync("/v1/vms");
                firstAnswer ??= sw.Elapsed;
                if (response.IsSuccessStatusCode && ((JsonArray)(await response.Content.ReadFromJsonAsync<JsonNode>())!).Count == vms)
                    break;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(5);
        }

        Report.Line($"cold start with {vms:N0} VMs in the journal until the API lists all (s)", $"{sw.Elapsed.TotalSeconds:F2} s", "< 3 s");
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    private static async Task Populate(string path, int vms)
    {
        using var db = new SqliteDatabase(new SqlitePersistenceOptions { Path = path, Synchronous = "normal" });
        await using var journal = new SqliteJournal(db, VmSerialization.Register(new EventSerializer()));
        var at = DateTimeOffset.UtcNow;
        await Task.WhenAll(Enumerable.Range(0, vms).Select(i =>
        {
            var name = $"vm{i:00000}";
            var events = new List<EventToWrite> { new(new VmEvent.Defined(new VmSpec(name, Guid.NewGuid(), 1, 256, [], []), at), [VmSerialization.Tag]) };
            if (i % 2 == 0)
            {
                events.Add(new(new VmEvent.StartRequested(1, "bench", "start requested", false, at), [VmSerialization.Tag]));
                events.Add(new(new VmEvent.Started(1, at), [VmSerialization.Tag]));
            }

            return journal.AppendAsync(VmSerialization.PersistenceId(name), 0, events);
        }));
    }

    /// <summary>Heap growth per recovered, idle VM actor: cell, mailbox, actor, state, and its entry in the directory.</summary>
    private static async Task MemoryPerVm(string dir, int vms)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "journal.db");
        await Populate(path, vms);
        using var db = new SqliteDatabase(new SqlitePersistenceOptions { Path = path });
        var serializer = VmSerialization.Register(new EventSerializer());
        await using var journal = new SqliteJournal(db, serializer);
        var snapshots = new SqliteSnapshotStore(db, serializer);
        await using var system = ActorSystem.Create("bench");
        var agent = system.ActorOf(Props.Create(() => new SilentAgent()));
        var before = Heap();
        var directory = system.ActorOf(VmDirectory.Props(new VmHost("bench", new VmDefaults(), journal, snapshots, agent)), "vms");
        while ((await directory.Ask<VmProtocol.Status>(new VmProtocol.GetStatus(), TimeSpan.FromSeconds(30))).Ready == false)
            await Task.Delay(20);
        var after = Heap();
        Report.Line($"memory per idle VM actor ({vms:N0} recovered, directory entry included)", (after - before) / (double)vms / 1024, "KiB", "< 16 KiB");
        GC.KeepAlive(directory);
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

    /// <summary>Answers every domain question with "not running", so recovery does no libvirt work.</summary>
    private sealed class SilentAgent : Actor
    {
        protected override void OnReceive(object message)
        {
            if (message is ObserveDomain o)
                Sender.Tell(new DomainObservation(o.Name, o.Op, false, false));
        }
    }
}
