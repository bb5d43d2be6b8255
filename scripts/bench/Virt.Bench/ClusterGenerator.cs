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

    /// <summary>The same cluster with every VM where a place run put it: a running cluster.</summary>
    public static PlacementProblem Running(PlacementProblem problem, PlanResult placed, PlanAction action)
    {
        var at = placed.Decisions.ToDictionary(d => d.Vm, d => d.To);
        return problem with
        {
            Vms = problem.Vms.Where(v => at.ContainsKey(v.Name)).Select(v => v with { Node = at[v.Name] }).ToList(),
            Rules = problem.Rules.Select(r => r with { Vms = r.Vms.Where(at.ContainsKey).ToList() }).Where(r => r.Vms.Count > 0).ToList(),
            Action = action,
        };
    }
}
