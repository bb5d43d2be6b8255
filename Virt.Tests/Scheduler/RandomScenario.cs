using Virt.Scheduler;

namespace Virt.Tests.Scheduler;

/// <summary>
/// Random but valid scenarios from a seed and sizes (FsCheck picks those and shrinks them): nodes with racks and
/// optional features, VMs partly running where they fit and obey their rules, location and colocation rules of
/// every kind, any action.
/// </summary>
internal static class RandomScenario
{
    public static PlacementProblem Make(int seed, int nodeCount, int vmCount, int reserve, int actionKind)
    {
        var rng = new Random(seed);
        var nodes = Enumerable.Range(0, nodeCount).Select(i =>
        {
            var attrs = new Dictionary<string, string> { ["rack"] = $"r{rng.Next(3)}" };
            if (rng.Next(3) == 0)
                attrs["ssd"] = "yes";
            if (rng.Next(5) == 0)
                attrs["usb"] = "1";
            var state = rng.Next(10) switch { 0 => NodeState.Draining, 1 => NodeState.Down, 2 => NodeState.Maintenance, _ => NodeState.Up };
            return new NodeSpec($"n{i}", new Dictionary<string, double> { ["vcpu"] = rng.Next(4, 33), ["memory_mib"] = 1024 * rng.Next(8, 65) }, attrs, state);
        }).ToList();

        var names = Enumerable.Range(0, vmCount).Select(i => $"vm{i:00}").ToList();
        var rules = new List<PlacementRule>();
        for (var r = 0; r < rng.Next(0, 4) && vmCount > 0; r++)
        {
            var members = Pick(rng, names, rng.Next(1, 4));
            var score = rng.Next(4) switch { 0 => Score.Infinity, 1 => Score.MinusInfinity, 2 => 25, _ => -10 };
            NodeExpression expr = rng.Next(4) switch
            {
                0 => new AttributeTest("rack", AttributeOp.Eq, $"r{rng.Next(3)}"),
                1 => new AttributeTest("ssd", AttributeOp.Defined),
                2 => new AnyOf([new AttributeTest("usb", AttributeOp.Defined), new AttributeTest("rack", AttributeOp.In, Values: ["r0", "r1"])]),
                _ => new AllOf([new AttributeTest("rack", AttributeOp.Ne, "r2"), new AttributeTest("usb", AttributeOp.NotDefined)]),
            };
            rules.Add(new LocationRule($"loc{r}", members, score, expr));
        }

        var grouped = new HashSet<string>();
        for (var r = 0; r < rng.Next(0, 4) && vmCount > 1; r++)
        {
            var members = Pick(rng, names, rng.Next(2, 4));
            var score = rng.Next(3) switch { 0 => Score.MinusInfinity, 1 => Score.Infinity, _ => 40 };
            if (score == Score.Infinity)
                grouped.UnionWith(members);
            rules.Add(new ColocationRule($"col{r}", members, score));
        }

        // Running VMs: placed where they fit and obey hard rules, so the starting point is valid.
        var used = nodes.ToDictionary(n => n.Name, _ => (Vcpu: 0.0, Mem: 0.0));
        var location = new Dictionary<string, string>();
        var vms = new List<VmSpec>();
        foreach (var name in names)
        {
            var demand = new Dictionary<string, double> { ["vcpu"] = rng.Next(1, 9), ["memory_mib"] = 512 * rng.Next(1, 17) };
            string? node = null;
            if (!grouped.Contains(name) && rng.Next(2) == 0)
            {
                var options = nodes.Where(n => n.State is NodeState.Up or NodeState.Draining)
                    .Where(n => used[n.Name].Vcpu + demand["vcpu"] <= n.Capacity["vcpu"] && used[n.Name].Mem + demand["memory_mib"] <= n.Capacity["memory_mib"])
                    .Where(n => Allowed(rules, name, n, location)).ToList();
                if (options.Count > 0)
                {
                    var chosen = options[rng.Next(options.Count)];
                    node = chosen.Name;
                    location[name] = node;
                    used[node] = (used[node].Vcpu + demand["vcpu"], used[node].Mem + demand["memory_mib"]);
                }
            }

            var failures = rng.Next(6) == 0 && nodeCount > 0
                ? new Dictionary<string, FailureHistory> { [$"n{rng.Next(nodeCount)}"] = new(rng.Next(1, 5), rng.Next(0, 1200)) }
                : null;
            vms.Add(new VmSpec(name, demand, rng.Next(0, 5) * 10, rng.Next(4) != 0, node, rng.Next(4) == 0 && nodeCount > 0 ? $"n{rng.Next(nodeCount)}" : null, failures));
        }

        var someNodes = nodes.Where(_ => rng.Next(3) == 0).Select(n => n.Name).DefaultIfEmpty("n0").Take(2).ToList();
        PlanAction action = actionKind switch
        {
            0 => new PlanAction.Place(),
            1 => new PlanAction.Evacuate(someNodes),
            2 => new PlanAction.Fail(someNodes),
            3 => new PlanAction.Rebalance(),
            _ => new PlanAction.Failback(),
        };
        var policy = new PlacementPolicy(
            rng.Next(2) == 0 ? PlacementStrategy.Balanced : PlacementStrategy.Pack,
            rng.Next(2) == 0,
            MigrationThreshold: rng.Next(1, 4),
            MinGain: rng.Next(3) * 0.02,
            MaxMigrations: rng.Next(0, 8),
            MaxMigrationsPerNode: rng.Next(1, 4));
        var overcommit = rng.Next(2) == 0 ? new Dictionary<string, double> { ["vcpu"] = 2.0 } : null;
        return new PlacementProblem(nodes, vms, rules, action, policy, overcommit, reserve);
    }

    private static List<string> Pick(Random rng, List<string> names, int count) =>
        names.OrderBy(_ => rng.Next()).Take(Math.Min(count, names.Count)).Order(StringComparer.Ordinal).ToList();

    private static bool Allowed(List<PlacementRule> rules, string vm, NodeSpec node, Dictionary<string, string> location)
    {
        foreach (var rule in rules.Where(r => r.Vms.Contains(vm)))
        {
            switch (rule)
            {
                case LocationRule l when l.Score == Score.MinusInfinity && l.Expression.Holds(node.Attributes):
                case LocationRule l2 when l2.Score == Score.Infinity && !l2.Expression.Holds(node.Attributes):
                    return false;
                case ColocationRule c when c.Score == Score.MinusInfinity && c.Vms.Any(o => o != vm && location.GetValueOrDefault(o) == node.Name):
                    return false;
            }
        }

        return true;
    }
}
