using Virt.Scheduler;

namespace Virt.Bench;

/// <summary>Generated clusters for the scheduler figures; a seed makes them repeatable.</summary>
internal static class ClusterGenerator
{
    public static PlacementProblem Cluster(int nodes, int vms, int antiGroups, int locationRules, int seed = 42, int reserve = 1, PlanAction? action = null)
    {
        var rng = new Random(seed);
        var nodeSpecs = Enumerable.Range(0, nodes).Select(i => new NodeSpec(
            $"hv-{i:000}",
            new Dictionary<string, double> { ["vcpu"] = 64, ["memory_mib"] = 512 * 1024 },
            new Dictionary<string, string> { ["rack"] = $"r{i % 20:00}", ["gen"] = (9 + (i % 4)).ToString(), ["ssd"] = i % 3 == 0 ? "yes" : "no" })).ToList();
        var vmSpecs = Enumerable.Range(0, vms).Select(i => new VmSpec(
            $"vm-{i:00000}",
            new Dictionary<string, double> { ["vcpu"] = rng.Next(1, 9), ["memory_mib"] = 1024 * rng.Next(2, 33) },
            Priority: rng.Next(0, 10) * 10,
            Ha: rng.Next(10) != 0)).ToList();
        var rules = new List<PlacementRule>();
        var shuffled = vmSpecs.Select(v => v.Name).OrderBy(_ => rng.Next()).ToList();
        var next = 0;
        for (var g = 0; g < antiGroups; g++)
        {
            var size = rng.Next(3, 6);
            rules.Add(new ColocationRule($"apart-{g:000}", shuffled.Skip(next).Take(size).ToList(), Score.MinusInfinity));
            next += size;
        }

        for (var r = 0; r < locationRules; r++)
        {
            var members = Enumerable.Range(0, rng.Next(1, 6)).Select(_ => vmSpecs[rng.Next(vms)].Name).Distinct().ToList();
            var (score, expr) = (r % 4) switch
            {
                0 => (Score.MinusInfinity, (NodeExpression)new AttributeTest("rack", AttributeOp.Eq, $"r{rng.Next(20):00}")),
                1 => (Score.Infinity, new AttributeTest("gen", AttributeOp.Gt, "9")),
                2 => (50.0, new AllOf([new AttributeTest("ssd", AttributeOp.Eq, "yes"), new AttributeTest("rack", AttributeOp.Ne, $"r{rng.Next(20):00}")])),
                _ => (-20.0, new AttributeTest("rack", AttributeOp.In, Values: [$"r{rng.Next(20):00}", $"r{rng.Next(20):00}"])),
            };
            rules.Add(new LocationRule($"loc-{r:000}", members, score, expr));
        }

        return new PlacementProblem(nodeSpecs, vmSpecs, rules, action ?? new PlanAction.Place(), new PlacementPolicy(),
            new Dictionary<string, double> { ["vcpu"] = 4.0 }, reserve);
    }

    /// <summary>
    /// The issue 13 rule mix on top of <see cref="Cluster"/>: directed INFINITY followers, rack anti-affinity, spread
    /// limits per rack, soft negative colocations (score sums), typed and date location rules, start orders.
    /// VMs taking part in an earlier rule are not reused, so the mix stays satisfiable.
    /// </summary>
    public static PlacementProblem WithIssue13Rules(PlacementProblem problem, int seed = 13)
    {
        var rng = new Random(seed);
        var free = problem.Vms.Select(v => v.Name).Where(n => !problem.Rules.Any(r => r.Vms.Contains(n))).OrderBy(_ => rng.Next()).ToList();
        var next = 0;
        List<string> Take(int count)
        {
            var taken = free.Skip(next).Take(count).ToList();
            next += count;
            return taken;
        }

        var rules = new List<PlacementRule>(problem.Rules);
        for (var i = 0; i < 300; i++)
        {
            var pair = Take(2);
            rules.Add(new ColocationRule($"follow-{i:000}", [pair[1]], Score.Infinity, With: pair[0]));
        }

        for (var i = 0; i < 100; i++)
            rules.Add(new ColocationRule($"racks-{i:000}", Take(3), Score.MinusInfinity, NodeAttribute: "rack"));
        for (var i = 0; i < 50; i++)
            rules.Add(new ColocationRule($"spread-{i:000}", Take(6), Score.MinusInfinity, NodeAttribute: "rack", AtMost: 2));
        for (var i = 0; i < 500; i++)
            rules.Add(new ColocationRule($"dislike-{i:000}", Take(2), -50));
        for (var i = 0; i < 200; i++)
        {
            var (score, expr) = (i % 4) switch
            {
                0 => (Score.Infinity, (NodeExpression)new AttributeTest("gen", AttributeOp.Gte, "10", Type: AttributeType.Integer)),
                1 => (30.0, new AttributeTest("rack", AttributeOp.NotIn, Values: [$"r{rng.Next(20):00}", $"r{rng.Next(20):00}"])),
                2 => (-10.0, new AllOf([new DateSpec([new DateSpecRange(DateField.Weekdays, 1, 5)]), new AttributeTest("ssd", AttributeOp.Eq, "no")])),
                _ => (Score.MinusInfinity, new AttributeTest("gen", AttributeOp.Lt, "9.5", Type: AttributeType.Number)),
            };
            rules.Add(new LocationRule($"typed-{i:000}", Take(2), score, expr));
        }

        for (var i = 0; i < 200; i++)
        {
            var pair = Take(2);
            rules.Add(new OrderRule($"order-{i:000}", [pair[1]], [pair[0]], Mandatory: i % 2 == 0));
        }

        return problem with { Rules = rules, Now = new DateTimeOffset(2026, 12, 9, 10, 0, 0, TimeSpan.Zero) };
    }

    /// <summary>
    /// The same cluster with every VM where a place run put it: a running cluster. Rules keep the VMs that run; a rule
    /// left without its anchor, its firsts, or (symmetric colocation) a second VM is dropped.
    /// </summary>
    public static PlacementProblem Running(PlacementProblem problem, PlanResult placed, PlanAction action)
    {
        var at = placed.Decisions.ToDictionary(d => d.Vm, d => d.To);
        var rules = new List<PlacementRule>();
        foreach (var rule in problem.Rules)
        {
            var kept = rule with { Vms = rule.Vms.Where(at.ContainsKey).ToList() };
            var keep = kept switch
            {
                ColocationRule { With: { } anchor } => at.ContainsKey(anchor),
                ColocationRule c => c.Vms.Distinct().Count() >= 2,
                OrderRule o => (kept = o with { StartAfter = o.StartAfter.Where(at.ContainsKey).ToList() }) is OrderRule { StartAfter.Count: > 0 },
                _ => true,
            };
            if (keep && kept.Vms.Count > 0)
                rules.Add(kept);
        }

        return problem with
        {
            Vms = problem.Vms.Where(v => at.ContainsKey(v.Name)).Select(v => v with { Node = at[v.Name] }).ToList(),
            Rules = rules,
            Action = action,
        };
    }
}
