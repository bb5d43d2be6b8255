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

/// <summary>Issue 3's figures: lifecycle commands through the whole pipeline, cold start with 10,000 VMs, memory per VM actor.</summary>
internal static class LifecycleBench
{
    public static async Task Run()
    {
        var dir = Directory.CreateTempSubdirectory("virt-bench-node-");
        try
        {
            await Commands(Path.Combine(dir.FullName, "commands"), vms: 1_000, rounds: 4, clients: 32);
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

    /// <summary>Start and stop commands, acknowledged after the journal write (fsync on), executed by libvirt's test driver.</summary>
    private static async Task Commands(string dir, int vms, int rounds, int clients)
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
            (await http.PostAsJsonAsync("/v1/vms", new { name = $"vm{i:0000}", vcpus = 1, memory = "256MiB" })).EnsureSuccessStatusCode());

        var latencies = new List<double>();
        var acked = TimeSpan.Zero;
        var total = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            var (verb, final) = round % 2 == 0 ? ("start", "running") : ("stop", "stopped");
            var roundLatencies = new double[vms];
            var sw = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, vms), new ParallelOptions { MaxDegreeOfParallelism = clients }, async (i, _) =>
            {
                var one = Stopwatch.StartNew();
                (await http.PostAsync($"/v1/vms/vm{i:0000}/{verb}", null)).EnsureSuccessStatusCode();
                roundLatencies[i] = one.Elapsed.TotalMilliseconds;
            });
            acked += sw.Elapsed;
            latencies.AddRange(roundLatencies);
            // The next round needs every VM settled (a VM still stopping refuses a start).
            while (((JsonArray)(await http.GetFromJsonAsync<JsonNode>("/v1/vms"))!).Any(v => v!["state"]!.GetValue<string>() != final))
                await Task.Delay(5);
        }

        var done = total.Elapsed;
        latencies.Sort();
        var count = vms * rounds;
        Report.Line($"lifecycle commands/s, API -> actor -> journal (fsync) ack, {vms:N0} VMs, {clients} clients", count / acked.TotalSeconds, "cmd/s", ">= 1,000");
        Report.Line("  command latency p50 / p99 / max (ms)", $"{Report.Percentile(latencies, 50):F1} / {Report.Percentile(latencies, 99):F1} / {latencies[^1]:F1}", "p99 < 20 ms");
        Report.Line("  commands/s including libvirt carrying them out", count / done.TotalSeconds, "cmd/s");
        await app.StopAsync();
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
