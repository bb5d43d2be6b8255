using Virt.Scheduler;

namespace Virt.Tests.Scheduler;

/// <summary>
/// Random but valid scenarios from a seed and sizes (FsCheck picks those and shrinks them): nodes with racks,
/// features, a generation number and a kernel version; VMs partly running where they fit and obey their rules;
/// rules of every kind (location with typed, set and date expressions; colocation symmetric or directed, on a node
/// or by rack, with spread limits; start order between VMs and groups); any action. For repair, the VMs were placed
/// before some of the rules existed, so they may break them.
/// </summary>
internal static class RandomScenario
{
    public const int Actions = 6;

    private static readonly DateTimeOffset Epoch = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

    public static PlacementProblem Make(int seed, int nodeCount, int vmCount, int reserve, int actionKind)
    {
        var rng = new Random(seed);
        var now = Epoch.AddHours(rng.Next(0, 24 * 14));
        var nodes = Enumerable.Range(0, nodeCount).Select(i =>
        {
            var attrs = new Dictionary<string, string> { ["rack"] = $"r{rng.Next(3)}", ["gen"] = $"{rng.Next(8, 13)}" };
            if (rng.Next(3) == 0)
                attrs["ssd"] = "yes";
            if (rng.Next(5) == 0)
                attrs["usb"] = "1";
            if (rng.Next(4) != 0)
                attrs["kernel"] = new[] { "5.10", "6.1", "6.12", "6.1.5" }[rng.Next(4)];
            var state = rng.Next(10) switch { 0 => NodeState.Draining, 1 => NodeState.Down, 2 => NodeState.Maintenance, _ => NodeState.Up };
            return new NodeSpec($"n{i}", new Dictionary<string, double> { ["vcpu"] = rng.Next(4, 33), ["memory_mib"] = 1024 * rng.Next(8, 65) }, attrs, state);
        }).ToList();

        var names = Enumerable.Range(0, vmCount).Select(i => $"vm{i:00}").ToList();
        var rules = new List<PlacementRule>();
        for (var r = 0; r < rng.Next(0, 5) && vmCount > 0; r++)
        {
            var members = Pick(rng, names, rng.Next(1, 4));
            var score = rng.Next(4) switch { 0 => Score.Infinity, 1 => Score.MinusInfinity, 2 => 25, _ => -10 };
            rules.Add(new LocationRule($"loc{r}", members, score, Expression(rng, now)));
        }

        var grouped = new HashSet<string>();
        for (var r = 0; r < rng.Next(0, 5) && vmCount > 1; r++)
        {
            var members = Pick(rng, names, rng.Next(2, 4));
            var byRack = rng.Next(3) == 0 ? "rack" : null;
            var score = rng.Next(4) switch { 0 => Score.MinusInfinity, 1 => Score.Infinity, 2 => 40, _ => -30 };
            int? atMost = score == Score.MinusInfinity && rng.Next(3) == 0 ? rng.Next(1, 3) : null;
            if (score == Score.Infinity && byRack is null)
                grouped.UnionWith(members);
            rules.Add(new ColocationRule($"col{r}", members, score, NodeAttribute: byRack, AtMost: atMost));
        }

        // Directed rules and orders only point from a later VM to an earlier one: no cycles.
        for (var r = 0; r < rng.Next(0, 4) && vmCount > 1; r++)
        {
            var anchor = rng.Next(vmCount - 1);
            var dependents = Enumerable.Range(anchor + 1, vmCount - anchor - 1).OrderBy(_ => rng.Next()).Take(rng.Next(1, 3)).Order().Select(i => names[i]).ToList();
            var score = rng.Next(4) switch { 0 or 1 => Score.Infinity, 2 => Score.MinusInfinity, _ => rng.Next(2) == 0 ? 60 : -60 };
            rules.Add(new ColocationRule($"with{r}", dependents, score, With: names[anchor], NodeAttribute: rng.Next(3) == 0 ? "rack" : null));
        }

        var third = vmCount / 3;
        for (var r = 0; r < rng.Next(0, 4) && vmCount > 1; r++)
        {
            var first = rng.Next(vmCount - 1);
            var then = rng.Next(first + 1, vmCount);
            var (vms, after) = rng.Next(4) switch
            {
                0 when third > 0 => (new List<string> { "g1" }, new List<string> { "g0" }),
                1 when third > 0 && then >= third => ([names[then]], ["g0"]),
                _ => (new List<string> { names[then] }, new List<string> { names[first] }),
            };
            rules.Add(new OrderRule($"ord{r}", vms, after, Mandatory: rng.Next(3) != 0));
        }

        // Directed rules point from later VMs to earlier ones, but an INFINITY group can close a cycle: drop the
        // directed or order rule that does until the rules can be ordered.
        while (Cycle(nodes, names, rules) is { } closing)
            rules.Remove(closing);

        var vmSpecs = names.Select((name, i) =>
        {
            var failures = rng.Next(6) == 0 && nodeCount > 0
                ? new Dictionary<string, FailureHistory> { [$"n{rng.Next(nodeCount)}"] = new(rng.Next(1, 5), rng.Next(0, 1200)) }
                : null;
            var group = third == 0 ? null : i < third ? "g0" : i >= vmCount - third ? "g1" : null;
            return new VmSpec(name, new Dictionary<string, double> { ["vcpu"] = rng.Next(1, 9), ["memory_mib"] = 512 * rng.Next(1, 17) },
                rng.Next(0, 5) * 10, rng.Next(4) != 0, null, rng.Next(4) == 0 && nodeCount > 0 ? $"n{rng.Next(nodeCount)}" : null, failures,
                MigrationThreshold: rng.Next(4) == 0 ? rng.Next(1, 4) : null, FailureTimeoutSeconds: rng.Next(4) == 0 ? rng.Next(0, 900) : null, Group: group);
        }).ToList();

        var policy = new PlacementPolicy(
            rng.Next(2) == 0 ? PlacementStrategy.Balanced : PlacementStrategy.Pack,
            rng.Next(2) == 0,
            MigrationThreshold: rng.Next(1, 4),
            MinGain: rng.Next(3) * 0.02,
            MaxMigrations: rng.Next(0, 8),
            MaxMigrationsPerNode: rng.Next(1, 4),
            NegativeScoreForbids: rng.Next(5) != 0,
            Stickiness: new[] { 0, 10, 50 }[rng.Next(3)]);
        var overcommit = rng.Next(2) == 0 ? new Dictionary<string, double> { ["vcpu"] = 2.0 } : null;

        // Running VMs: placed where they fit and obey the rules that existed then (for repair, a random part of them).
        var existing = actionKind == 5 ? rules.Where(_ => rng.Next(2) == 0).ToList() : rules;
        var used = nodes.ToDictionary(n => n.Name, _ => (Vcpu: 0.0, Mem: 0.0));
        for (var i = 0; i < vmSpecs.Count; i++)
        {
            var vm = vmSpecs[i];
            if (grouped.Contains(vm.Name) || rng.Next(2) != 0)
                continue;
            var sofar = new PlacementProblem(nodes, vmSpecs, existing, new PlanAction.Place(), policy, overcommit, reserve, now);
            var options = nodes.Where(n => n.State is NodeState.Up or NodeState.Draining)
                .Where(n => used[n.Name].Vcpu + vm.Demand["vcpu"] <= n.Capacity["vcpu"] && used[n.Name].Mem + vm.Demand["memory_mib"] <= n.Capacity["memory_mib"])
                .Where(n => PlanChecker.AllowsAtStart(sofar, vm.Name, n.Name)).ToList();
            if (options.Count == 0)
                continue;
            var chosen = options[rng.Next(options.Count)];
            vmSpecs[i] = vm with { Node = chosen.Name };
            used[chosen.Name] = (used[chosen.Name].Vcpu + vm.Demand["vcpu"], used[chosen.Name].Mem + vm.Demand["memory_mib"]);
        }

        var someNodes = nodes.Where(_ => rng.Next(3) == 0).Select(n => n.Name).DefaultIfEmpty("n0").Take(2).ToList();
        var unplaceable = rng.Next(2) == 0 ? Unplaceable.Keep : Unplaceable.Stop;
        PlanAction action = actionKind switch
        {
            0 => new PlanAction.Place(),
            1 => new PlanAction.Evacuate(someNodes, unplaceable),
            2 => new PlanAction.Fail(someNodes),
            3 => new PlanAction.Rebalance(),
            4 => new PlanAction.Failback(),
            _ => new PlanAction.Repair(unplaceable),
        };
        return new PlacementProblem(nodes, vmSpecs, rules, action, policy, overcommit, reserve, now);
    }

    private static PlacementRule? Cycle(List<NodeSpec> nodes, List<string> names, List<PlacementRule> rules)
    {
        var third = names.Count / 3;
        var vms = names.Select((n, i) => new VmSpec(n, new Dictionary<string, double>(), Group: third == 0 ? null : i < third ? "g0" : i >= names.Count - third ? "g1" : null)).ToList();
        try
        {
            ScenarioReader.Validate(new PlacementProblem(nodes, vms, rules, new PlanAction.Place(), Now: Epoch));
            return null;
        }
        catch (ScenarioException ex) when (ex.Message.Contains("make a cycle"))
        {
            return rules.Last(r => r is OrderRule or ColocationRule { With: not null });
        }
    }

    private static NodeExpression Expression(Random rng, DateTimeOffset now) => rng.Next(9) switch
    {
        0 => new AttributeTest("rack", AttributeOp.Eq, $"R{rng.Next(3)}"), // case does not matter, as in Pacemaker
        1 => new AttributeTest("ssd", AttributeOp.Defined),
        2 => new AnyOf([new AttributeTest("usb", AttributeOp.Defined), new AttributeTest("rack", AttributeOp.In, Values: ["r0", "r1"])]),
        3 => new AllOf([new AttributeTest("rack", AttributeOp.Ne, "r2"), new AttributeTest("usb", AttributeOp.NotDefined)]),
        4 => new AttributeTest("gen", rng.Next(2) == 0 ? AttributeOp.Gte : AttributeOp.Lt, $"{rng.Next(8, 13)}", Type: AttributeType.Integer),
        5 => new AttributeTest("kernel", rng.Next(2) == 0 ? AttributeOp.Gte : AttributeOp.Lte, "6.1", Type: AttributeType.Version),
        6 => new AttributeTest("rack", AttributeOp.NotIn, Values: ["r2"]),
        7 => new AllOf([new DateSpec([new DateSpecRange(DateField.Weekdays, 1, 5), new DateSpecRange(DateField.Hours, 8, 17)]), new AttributeTest("ssd", AttributeOp.NotDefined)]),
        _ => new AnyOf([new DateRange(now.AddDays(rng.Next(-3, 3)), null), new AttributeTest("gen", AttributeOp.Gt, "11.5", Type: AttributeType.Number)]),
    };

    private static List<string> Pick(Random rng, List<string> names, int count) =>
        names.OrderBy(_ => rng.Next()).Take(Math.Min(count, names.Count)).Order(StringComparer.Ordinal).ToList();
}
