using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Bench;

/// <summary>
/// Issue 10's failover figure: kill -9 of hv-3's virt-node in a 3-node cluster with power fencing (the test fence
/// agent), until every HA VM of hv-3 runs on hv-1 or hv-2 as their libvirt lists it; with 10 and 200 VMs on hv-3.
/// Each phase's end is timed from the fault: detection (a survivor shows hv-3 unreachable), downing (the fence
/// record's membership end, or hv-3 down or gone from a survivor's /v1/cluster), fence (the record's fencedAt),
/// placement (every VM placed on a survivor: starting or running there) and start (all run there per libvirt).
/// A later phase's end bounds the earlier ones (a VM running on a survivor was placed), so an end seen late because
/// one view lags is taken as no later than the next.
/// </summary>
internal static class FailoverBench
{
    private const int Lost = 2; // hv-3
    private static readonly TimeSpan RoundBudget = TimeSpan.FromMinutes(2);

    public static async Task Run()
    {
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("VIRT_BENCH_ROUNDS"), out var r) && r > 0 ? r : 20;
        foreach (var vms in new[] { 10, 200 })
            await Configuration(vms, rounds);
    }

    private static async Task Configuration(int vms, int rounds)
    {
        var sw = Stopwatch.StartNew();
        using var state = new TempDirectory("virt-bench-fence");
        var agent = Path.Combine(Binaries.RepoRoot, "Virt.Tests", "Support", "fence_test_host");
        var hosts = string.Join(", ", Enumerable.Range(0, 3).Select(i =>
            $"\"{NodeCluster.Name(i)}\" {{ agent = \"{agent}\", args {{ plug = \"{NodeCluster.Name(i)}\", state_dir = \"{state.Path}\" }} }}"));
        var postgres = await (await PostgresServer.Shared).CreateDatabase($"bench_failover_{vms}");
        // Each host can take every VM alone: 64 CPUs (x4 vCPU overcommit) and 64 GiB against 200 x (1 vCPU, 128 MiB).
        await using var cluster = await NodeCluster.Start(postgres, [(64, 65536), (64, 65536), (64, 65536)],
            "virt.fencing.levels=[power]", $"virt.fencing.power.hosts={{ {hosts} }}", "virt.fencing.power.off-wait=5s");
        var bench = new Bench(cluster, state.Path, vms);
        var results = new List<RoundTimes>();
        try
        {
            for (var i = 0; i < 3; i++)
                bench.Register(i);
            await bench.CreateVms();
            await bench.KeepSingletonsOffTheLostHost();
            for (var round = 1; round <= rounds; round++)
            {
                var setup = Stopwatch.StartNew();
                await Task.WhenAll(bench.RestartTheLostHost(), bench.StopVms());
                var restarted = setup.Elapsed;
                await bench.StartVmsOnTheLostHost();
                var ready = setup.Elapsed;
                var times = await bench.KillAndWatch();
                results.Add(times);
                Console.Error.WriteLine($"failover {vms} VMs, round {round}/{rounds} (hv-3 up and VMs stopped in {restarted.TotalSeconds:F1} s, VMs on hv-3 in {ready.TotalSeconds:F1} s): {times}");
            }
        }
        catch
        {
            // What went wrong, as the nodes logged it.
            foreach (var node in cluster.Nodes)
            {
                foreach (var line in node.Log.Where(l => l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains(" fail: ", StringComparison.Ordinal)).TakeLast(15))
                    Console.Error.WriteLine("  " + (line.Length > 400 ? line[..400] : line));
            }

            throw;
        }

        Print(vms, results, sw.Elapsed);
    }

    private static void Print(int vms, List<RoundTimes> results, TimeSpan took)
    {
        string P(Func<RoundTimes, double> phase)
        {
            var sorted = results.Where(t => t.Finished).Select(phase).Order().ToList();
            return $"{Report.Percentile(sorted, 50):F2} / {Report.Percentile(sorted, 99):F2}";
        }

        var what = $"kill -9 + power fence, {vms} VMs on hv-3";
        Report.Line($"{what}: rounds", results.Count, "faults");
        Report.Line($"{what}: rounds not done within {RoundBudget.TotalSeconds:0} s (not in the figures)", results.Count(t => !t.Finished), "rounds", "0");
        Report.Line($"{what}: all run elsewhere (libvirt), p50 / p99 (s)", P(t => t.Start), "p99 <= 10 s");
        Report.Line("  ... end of detection (survivor: unreachable)", P(t => t.Detection));
        Report.Line("  ... end of downing (membership ended)", P(t => t.Downing));
        Report.Line("  ... end of fence (fencedAt, status off)", P(t => t.Fence));
        Report.Line("  ... end of placement (none recovering/placing)", P(t => t.Placement));
        Report.Line("  ... end of start (all running per survivors' libvirt)", P(t => t.Start));
        Report.Line($"{what}: rounds with a VM on two hosts at once", results.Count(t => t.RanTwice), "rounds", "0");
        Report.Line($"{what}: rounds with a VM started before the fence", results.Count(t => t.StartedBeforeFence), "rounds", "0");
        Report.Line($"{what}: time for the whole configuration", took.TotalSeconds, "s");
    }

    /// <summary>Seconds from the fault to the end of each phase, in one round.</summary>
    private sealed record RoundTimes(double Detection, double Downing, double Fence, double Placement, double Start, bool RanTwice, bool StartedBeforeFence)
    {
        /// <summary>A later phase's end bounds every earlier one's: the views are read at different moments and some lag.</summary>
        public static RoundTimes Of(double detection, double downing, double fence, double placement, double start, bool ranTwice, bool startedBeforeFence)
        {
            placement = Math.Min(placement, start);
            fence = Math.Min(fence, placement);
            downing = Math.Min(downing, fence);
            detection = Math.Min(detection, downing);
            return new RoundTimes(detection, downing, fence, placement, start, ranTwice, startedBeforeFence);
        }

        /// <summary>A round whose VMs did not all run elsewhere within the round's budget.</summary>
        public static RoundTimes Unfinished { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, false, false) { Finished = false };

        public bool Finished { get; init; } = true;

        public override string ToString() => !Finished ? "DID NOT FINISH" :
            $"detection {Detection:F2} s, downing {Downing:F2} s, fence {Fence:F2} s, placement {Placement:F2} s, start {Start:F2} s" +
            (RanTwice ? ", A VM RAN ON TWO HOSTS" : "") + (StartedBeforeFence ? ", A VM STARTED BEFORE THE FENCE" : "");
    }

    private sealed class Bench(NodeCluster cluster, string fenceState, int count)
    {
        private readonly List<string> _vms = Enumerable.Range(0, count).Select(i => $"ha-{i:000}").ToList();

        // The membership and the fence records are small: asked every 50 ms. The VM views grow with the VMs and the
        // machine has 2 cores: for many VMs they are asked less often.
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
        private readonly TimeSpan _vmPoll = TimeSpan.FromMilliseconds(count > 50 ? 100 : 50);

        private static string Host => NodeCluster.Name(Lost);

        private VirtNodeProcess Survivor => cluster[0];

        /// <summary>The test host is its virt-node process (its test-driver domains live inside it); a restart gets a new pid.</summary>
        public void Register(int node) =>
            File.WriteAllText(Path.Combine(fenceState, $"{NodeCluster.Name(node)}.pids"), cluster[node].Pid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public async Task CreateVms() =>
            await Parallel.ForEachAsync(_vms, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (vm, _) =>
            {
                using var created = await Survivor.Http.PostAsJsonAsync("/v1/vms", new { name = vm, vcpus = 1, memory = "128MiB", restart = "always" });
                if (created.StatusCode != HttpStatusCode.Created)
                    throw new InvalidOperationException($"create {vm}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            });

        /// <summary>
        /// The singletons (balancer, fencer) run on the oldest member; the three start together, so hv-3 may be it.
        /// Measured is the loss of a host that holds none of them (the rounds' restarts keep hv-3 the youngest): when
        /// hv-3 is the oldest, one unmeasured kill -9 and fence first. (A graceful leave and rejoin instead left hv-3
        /// unhealthy for minutes here, twice out of three.)
        /// </summary>
        public async Task KeepSingletonsOffTheLostHost()
        {
            var holder = (await Survivor.Get("/v1/cluster"))["singletons"]!["balancer"]?.GetValue<string>();
            if (holder != Host)
                return;
            var incarnation = (await Survivor.Get("/v1/cluster"))["members"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == Host)!["incarnation"]!.GetValue<long>();
            cluster[Lost].Kill();
            await Until(async () => (await Fence(incarnation))?["fencedAt"] is not null, $"{Host} (the oldest, killed before the rounds) is fenced", 120);
        }

        /// <summary>hv-3 up again when it was killed (a new incarnation, with a new pid for the fence agent), and a member as hv-1 sees it.</summary>
        public async Task RestartTheLostHost()
        {
            if (cluster[Lost].Pid is null)
            {
                // Healthy means every remembered VM entity is started again across the cluster; with 200 of them on a
                // loaded machine that can take longer than the fixture's own 60 s wait.
                await cluster[Lost].Start(waitForHealthy: false);
                await Until(async () => (await cluster[Lost].Http.GetAsync("/v1/health")).IsSuccessStatusCode, $"{Host} is healthy again", 240);
            }

            Register(Lost);
            await Until(async () => (await Members(Survivor))?.GetValueOrDefault(Host) == "up", $"{Host} is up as hv-1 sees it", 60);
        }

        /// <summary>Every VM stopped (force), wherever it runs; this can go on while hv-3 starts again.</summary>
        public async Task StopVms()
        {
            var views = await Vms(Survivor) ?? throw new InvalidOperationException("GET /v1/vms failed");
            var running = views.Where(v => v.Value.State != "stopped").Select(v => v.Key).ToList();
            await Parallel.ForEachAsync(running, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (vm, _) =>
                await Accepted(() => Survivor.Http.PostAsync($"/v1/vms/{vm}/stop?force=true", null), $"stop {vm}"));
            await Until(async () => await Vms(Survivor) is { } v && _vms.All(n => v[n].State == "stopped"), "every VM is stopped", 120);
        }

        /// <summary>Every VM started pinned to hv-3, until hv-3's libvirt runs them all and the cluster says so.</summary>
        public async Task StartVmsOnTheLostHost()
        {
            // One at a time: the balancer decides the starts waiting in its mailbox as one plan, and two starts pinned
            // to the same host in one plan make it fail (a rule '--node hv-3' per start: "duplicate rule name").
            // A start answers once it is placed, so these never share a plan.
            foreach (var vm in _vms)
                await Accepted(() => Survivor.Http.PostAsync($"/v1/vms/{vm}/start?node={Host}", null), $"start {vm} on {Host}");
            await Until(async () => await Running(cluster[Lost]) is { } r && _vms.All(r.Contains), $"every VM runs on {Host} (its libvirt)", 120);
            await Until(async () => await Vms(Survivor) is { } v && _vms.All(n => v[n] is ("running", var node) && node == Host), $"every VM is running on {Host} (the cluster's view)", 120);

            var elsewhere = (await Running(cluster[0]) ?? []).Concat(await Running(cluster[1]) ?? []).Intersect(_vms).ToList();
            if (elsewhere.Count > 0)
                throw new InvalidOperationException($"{string.Join(", ", elsewhere)} run on {Host} and on a survivor at once");
        }

        /// <summary>kill -9 of hv-3 at t0, then every phase polled from the survivors until all VMs run on them.</summary>
        public async Task<RoundTimes> KillAndWatch()
        {
            var incarnation = (await Survivor.Get("/v1/cluster"))["members"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == Host)!["incarnation"]!.GetValue<long>();
            double? detected = null, downed = null, fenced = null, placed = null, started = null;
            var ranTwice = false;
            double? firstElsewhere = null;

            var wall0 = DateTimeOffset.UtcNow;
            var t0 = Stopwatch.GetTimestamp();
            cluster[Lost].Kill();
            double Now() => Stopwatch.GetElapsedTime(t0).TotalSeconds;
            double Since(DateTimeOffset at) => (at - wall0).TotalSeconds;

            while (started is null)
            {
                if (Now() > RoundBudget.TotalSeconds)
                {
                    // Counted and shown, not hidden in the percentiles: the next round force-stops whatever is stuck.
                    Console.Error.WriteLine($"{count} VMs of {Host} not all running elsewhere {RoundBudget.TotalSeconds} s after kill -9: " +
                        $"detected {detected:F2}, downed {downed:F2}, fenced {fenced:F2}, placed {placed:F2}; the VMs: {Describe(await Vms(Survivor))}");
                    foreach (var node in cluster.Nodes.Take(Lost))
                    {
                        foreach (var line in node.Log.Where(l => l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains(" fail: ", StringComparison.Ordinal)).TakeLast(10))
                            Console.Error.WriteLine("  " + (line.Length > 400 ? line[..400] : line));
                    }

                    return RoundTimes.Unfinished;
                }

                var tick = Stopwatch.GetTimestamp();

                // Each view only while its phase is open, and the VM views only once they can change: keeps polling light.
                var members = detected is null || downed is null ? Members(Survivor) : Task.FromResult<Dictionary<string, string>?>(null);
                var fences = detected is not null && fenced is null ? Fence(incarnation) : Task.FromResult<JsonNode?>(null);
                var vms = fenced is not null && placed is null ? Vms(Survivor) : Task.FromResult<Dictionary<string, (string State, string? Node)>?>(null);
                var listings = detected is not null ? Task.WhenAll(Running(cluster[0]), Running(cluster[1])) : Task.FromResult<HashSet<string>?[]>([]);
                await Task.WhenAll(members, fences, vms, listings);
                var seen = Now();

                if (await members is { } m)
                {
                    var status = m.GetValueOrDefault(Host);
                    if (detected is null && status is null or "unreachable" or "down")
                        detected = seen;
                    if (downed is null && status is null or "down")
                        downed = seen;
                }

                if (await fences is { } f)
                {
                    downed = Math.Min(downed ?? double.MaxValue, Since(f["membershipEnded"]!.GetValue<DateTimeOffset>()));
                    if (f["fencedAt"]?.GetValue<DateTimeOffset>() is { } at)
                        fenced = Since(at);
                }

                if (await vms is { } v && _vms.All(n => v[n] is ("starting" or "running", var node) && node is not null && node != Host))
                    placed = seen;

                var lists = await listings;
                if (lists.Length == 2 && lists[0] is { } one && lists[1] is { } two)
                {
                    ranTwice |= one.Intersect(two).Intersect(_vms).Any();
                    if (firstElsewhere is null && one.Concat(two).Intersect(_vms).Any())
                        firstElsewhere = seen;
                    if (fenced is not null && _vms.All(n => one.Contains(n) || two.Contains(n)))
                        started = seen;
                }

                var left = (fenced is null ? Poll : _vmPoll) - Stopwatch.GetElapsedTime(tick);
                if (started is null && left > TimeSpan.Zero)
                    await Task.Delay(left);
            }

            // One listing more after the end: nothing runs on both survivors.
            var after = await Task.WhenAll(Running(cluster[0]), Running(cluster[1]));
            ranTwice |= after[0] is { } a && after[1] is { } b && a.Intersect(b).Intersect(_vms).Any();
            return RoundTimes.Of(detected ?? double.MaxValue, downed ?? double.MaxValue, fenced!.Value, placed ?? double.MaxValue, started.Value,
                ranTwice, firstElsewhere < fenced);
        }

        private static string Describe(Dictionary<string, (string State, string? Node)>? vms) =>
            vms is null ? "(no answer)" : string.Join(", ", vms.GroupBy(v => $"{v.Value.State} on {v.Value.Node ?? "none"}").Select(g => $"{g.Count()} {g.Key}"));

        /// <summary>The fence record of hv-3's lost incarnation, or null (none yet, or the fencer singleton is moving: 504).</summary>
        private async Task<JsonNode?> Fence(long incarnation)
        {
            var fences = await TryGet(Survivor, "/v1/fences");
            return fences?["fences"]!.AsArray().FirstOrDefault(f => f!["host"]!.GetValue<string>() == Host && f["incarnation"]!.GetValue<long>() == incarnation);
        }

        /// <summary>Member name to status as <paramref name="node"/> sees them ("unreachable" wins over the status).</summary>
        private static async Task<Dictionary<string, string>?> Members(VirtNodeProcess node) =>
            (await TryGet(node, "/v1/cluster"))?["members"]!.AsArray().ToDictionary(m => m!["name"]!.GetValue<string>(), m => m!["status"]!.GetValue<string>());

        private static async Task<Dictionary<string, (string State, string? Node)>?> Vms(VirtNodeProcess node) =>
            (await TryGet(node, "/v1/vms"))?.AsArray().ToDictionary(v => v!["name"]!.GetValue<string>(), v => (v!["state"]!.GetValue<string>(), v["node"]?.GetValue<string>()));

        /// <summary>The domains running in <paramref name="node"/>'s libvirt, or null when it does not answer.</summary>
        private static async Task<HashSet<string>?> Running(VirtNodeProcess node) =>
            (await TryGet(node, "/v1/node"))?["domains"]!.AsArray().Where(d => d!["state"]!.GetValue<string>() == "running").Select(d => d!["name"]!.GetValue<string>()).ToHashSet();

        private static async Task<JsonNode?> TryGet(VirtNodeProcess node, string path)
        {
            try
            {
                using var response = await node.Http.GetAsync(path);
                return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync()) : null;
            }
            catch (HttpRequestException)
            {
                return null;
            }
            catch (TaskCanceledException)
            {
                return null;
            }
        }

        /// <summary>
        /// Sends a command until it is accepted (202; 200 when a retry finds it done): a host just back may not have
        /// reported to the balancer yet, and an answer that ran out (504) may still have been carried out.
        /// </summary>
        private static async Task Accepted(Func<Task<HttpResponseMessage>> send, string what)
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                using var response = await send();
                if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                    return;
                if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                    throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                await Task.Delay(200);
            }
        }

        /// <summary>Waits for a condition, asking every 200 ms (the listings of 200 VMs are not free on 2 cores).</summary>
        private static async Task Until(Func<Task<bool>> condition, string what, double seconds)
        {
            var deadline = Stopwatch.StartNew();
            while (!await condition())
            {
                if (deadline.Elapsed.TotalSeconds > seconds)
                    throw new TimeoutException($"timed out after {seconds} s waiting until {what}");
                await Task.Delay(200);
            }
        }
    }
}
