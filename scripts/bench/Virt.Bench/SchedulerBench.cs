using System.Diagnostics;
using Virt.Scheduler;

namespace Virt.Bench;

/// <summary>Issue 5's and 13's figures. The engine is single-threaded, so each figure is time on one core.</summary>
internal static class SchedulerBench
{
    public static Task Run()
    {
        var cluster = ClusterGenerator.Cluster(500, 10_000, 200, 500);
        var placed = Measure("place 10,000 VMs on 500 nodes, 200 anti-affinity groups, 500 location rules, N+1", cluster, "< 1,000 ms", warmup: 4, runs: 5);
        Console.WriteLine($"    placed {placed.Decisions.Count:N0}, unplaced {placed.Unplaced.Count:N0}, reservation holds: {placed.Reservation.Holds}");

        // A running cluster plus one node carrying 200 small VMs, which then fails.
        var running = ClusterGenerator.Running(cluster, placed, new PlanAction.Place());
        var fat = new NodeSpec("hv-fat", new Dictionary<string, double> { ["vcpu"] = 256, ["memory_mib"] = 1024 * 1024 }, new Dictionary<string, string> { ["rack"] = "r99", ["gen"] = "12", ["ssd"] = "yes" });
        var small = Enumerable.Range(0, 200).Select(i => new VmSpec($"fat-{i:000}", new Dictionary<string, double> { ["vcpu"] = 1, ["memory_mib"] = 2048 }, i % 10 * 10, true, "hv-fat")).ToList();
        var failing = running with { Nodes = [.. running.Nodes, fat], Vms = [.. running.Vms, .. small], Action = new PlanAction.Fail(["hv-fat"]) };
        var failed = Measure("fail of a 200-VM node in that cluster (restart by priority)", failing, "< 20 ms", warmup: 40, runs: 15);
        Console.WriteLine($"    restarted {failed.Decisions.Count(d => d.Kind == DecisionKind.Restart)}, unplaced {failed.Unplaced.Count}");

        // Issue 13: the same cluster with the new rule kinds, then repair and evacuate on it running.
        var mixed = ClusterGenerator.WithIssue13Rules(cluster);
        var mixedPlaced = Measure($"place the same with the issue 13 rule mix ({mixed.Rules.Count - cluster.Rules.Count:N0} more rules: followers, rack anti-affinity, spread limits, score sums, typed/date rules, start order)", mixed, "< 1,000 ms", warmup: 4, runs: 5);
        Console.WriteLine($"    placed {mixedPlaced.Decisions.Count:N0}, unplaced {mixedPlaced.Unplaced.Count:N0}, reservation holds: {mixedPlaced.Reservation.Holds}, starts waiting for others: {mixedPlaced.Decisions.Count(d => d.After.Count > 0):N0}");
        var runningMixed = ClusterGenerator.Running(mixed, mixedPlaced, new PlanAction.Repair());
        var violated = runningMixed with
        {
            Rules = [.. runningMixed.Rules, .. Enumerable.Range(0, 50).Select(i => new LocationRule($"added-{i:00}", runningMixed.Vms.Skip(i * 4).Take(4).Select(v => v.Name).ToList(), Score.MinusInfinity,
                new AttributeTest("rack", AttributeOp.Eq, $"r{i % 20:00}")))],
            Policy = new PlacementPolicy(MaxMigrations: 200, MaxMigrationsPerNode: 8),
        };
        var repaired = Measure("repair after 50 rules were added to that running cluster", violated, "(no target)", warmup: 4, runs: 5);
        Console.WriteLine($"    {repaired.Decisions.Count} migrations, {repaired.Unplaced.Count} left explained");
        var evacuating = runningMixed with { Action = new PlanAction.Evacuate(["hv-000", "hv-001"], Unplaceable.Stop), Policy = new PlacementPolicy(Preempt: true) };
        var evacuated = Measure("evacuate two nodes of it (unplaceable stop, preempt)", evacuating, "(no target)", warmup: 10, runs: 9);
        Console.WriteLine($"    {evacuated.Decisions.Count(d => d.Kind == DecisionKind.Migrate)} migrations, {evacuated.Decisions.Count(d => d.Kind == DecisionKind.Stop)} stops");

        var skewed = Skewed(50, 1_000);
        var rebalanced = Measure("rebalance of a skewed 50-node / 1,000-VM cluster", skewed, "< 500 ms", warmup: 40, runs: 15);
        Console.WriteLine($"    {rebalanced.Decisions.Count} migrations (max_migrations {skewed.Policy!.MaxMigrations})");
        return Task.CompletedTask;
    }

    /// <summary>
    /// Median of <paramref name="runs"/> after <paramref name="warmup"/> runs, so the JIT has tiered up as it would in
    /// the long-running balancer; the first (cold) run is shown too.
    /// </summary>
    private static PlanResult Measure(string what, PlacementProblem problem, string target, int warmup, int runs)
    {
        var first = Stopwatch.StartNew();
        var result = PlacementEngine.Plan(problem);
        var cold = first.Elapsed.TotalMilliseconds;
        for (var i = 0; i < warmup; i++)
            PlacementEngine.Plan(problem);
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
            times.Add(PlacementEngine.Plan(problem).ElapsedMs);
        times.Sort();
        Report.Line($"{what} (ms, median warm; cold {cold:N0})", $"{times[times.Count / 2]:N1} ms", target);
        return result;
    }

    /// <summary>All VMs packed on the first fifth of the nodes; the rest empty.</summary>
    private static PlacementProblem Skewed(int nodes, int vms)
    {
        var rng = new Random(7);
        var nodeSpecs = Enumerable.Range(0, nodes).Select(i => new NodeSpec($"hv-{i:00}",
            new Dictionary<string, double> { ["vcpu"] = 64, ["memory_mib"] = 512 * 1024 }, new Dictionary<string, string> { ["rack"] = $"r{i % 5}" })).ToList();
        var hot = nodes / 5;
        var vmSpecs = Enumerable.Range(0, vms).Select(i => new VmSpec($"vm-{i:0000}",
            new Dictionary<string, double> { ["vcpu"] = rng.Next(1, 4), ["memory_mib"] = 1024 * rng.Next(2, 9) },
            rng.Next(0, 5) * 10, true, $"hv-{i % hot:00}")).ToList();
        return new PlacementProblem(nodeSpecs, vmSpecs, [], new PlanAction.Rebalance(),
            new PlacementPolicy(MaxMigrations: 20, MaxMigrationsPerNode: 2), new Dictionary<string, double> { ["vcpu"] = 4.0 }, 0);
    }
}
