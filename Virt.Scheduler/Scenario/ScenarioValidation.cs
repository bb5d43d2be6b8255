namespace Virt.Scheduler;

/// <summary>
/// Cross-item checks of a problem, whether it was read from a file or built in code: unique names, references,
/// dimensions, rule shapes, and no cycle among what waits for what (directed colocations and order rules).
/// </summary>
internal static class ScenarioValidation
{
    public static void Run(PlacementProblem problem)
    {
        Unique(problem.Nodes.Select(n => n.Name), "node");
        Unique(problem.Vms.Select(v => v.Name), "VM");
        Unique(problem.Rules.Select(r => r.Name), "rule");
        var nodes = problem.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var vms = problem.Vms.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        var groups = problem.Vms.Where(v => v.Group is not null).GroupBy(v => v.Group!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(v => v.Name).ToList(), StringComparer.Ordinal);
        var dims = problem.Nodes.SelectMany(n => n.Capacity.Keys).ToHashSet(StringComparer.Ordinal);
        foreach (var node in problem.Nodes)
        {
            foreach (var (dim, value) in node.Capacity)
            {
                if (value < 0 || !double.IsFinite(value))
                    throw new ScenarioException($"node '{node.Name}': capacity '{dim}' must be 0 or more, not {value}");
            }
        }

        foreach (var vm in problem.Vms)
            Vm(vm, nodes, dims, vms);

        foreach (var group in groups.Keys.Where(vms.Contains))
            throw new ScenarioException($"group '{group}' has the name of a VM; order rules could not tell them apart: rename one");

        foreach (var rule in problem.Rules)
            Rule(rule, problem, vms, groups);

        foreach (var (dim, ratio) in problem.Overcommit ?? new Dictionary<string, double>())
        {
            if (!dims.Contains(dim))
                throw new ScenarioException($"overcommit names '{dim}' but no node has capacity '{dim}'");
            if (ratio <= 0)
                throw new ScenarioException($"overcommit '{dim}' must be more than 0, not {ratio}");
        }

        var actionNodes = problem.Action switch
        {
            PlanAction.Evacuate e => e.Nodes,
            PlanAction.Fail f => f.Nodes,
            _ => [],
        };
        foreach (var n in actionNodes)
        {
            if (!nodes.Contains(n))
                throw new ScenarioException($"action {problem.Action.Kind}: unknown node '{n}'");
        }

        NoCycle(problem, groups);
    }

    private static void Vm(VmSpec vm, HashSet<string> nodes, HashSet<string> dims, HashSet<string> vms)
    {
        foreach (var (dim, value) in vm.Demand)
        {
            if (value < 0 || !double.IsFinite(value))
                throw new ScenarioException($"VM '{vm.Name}': demand '{dim}' must be 0 or more, not {value}");
            if (!dims.Contains(dim))
                throw new ScenarioException($"VM '{vm.Name}': demands '{dim}' but no node has capacity '{dim}'");
        }

        if (vm.Node is { } n && !nodes.Contains(n))
            throw new ScenarioException($"VM '{vm.Name}': node '{n}' is not a known node");
        if (vm.Home is { } h && !nodes.Contains(h))
            throw new ScenarioException($"VM '{vm.Name}': home '{h}' is not a known node");
        foreach (var failed in vm.Failures?.Keys ?? [])
        {
            if (!nodes.Contains(failed))
                throw new ScenarioException($"VM '{vm.Name}': failures name '{failed}', which is not a known node");
        }

        if (vm.MigrationThreshold < 0)
            throw new ScenarioException($"VM '{vm.Name}': migration_threshold must be 0 or more, not {vm.MigrationThreshold}");
        if (vm.FailureTimeoutSeconds is { } ft && (ft < 0 || !double.IsFinite(ft)))
            throw new ScenarioException($"VM '{vm.Name}': failure_timeout_s must be 0 or more, not {ft}");
        if (vm.Group is { } g && string.IsNullOrWhiteSpace(g))
            throw new ScenarioException($"VM '{vm.Name}': group is empty; give a name or leave it out");
    }

    private static void Rule(PlacementRule rule, PlacementProblem problem, HashSet<string> vms, Dictionary<string, List<string>> groups)
    {
        var what = $"rule '{rule.Name}'";
        if (rule.Vms.Count == 0)
            throw new ScenarioException($"{what}: vms is empty");
        switch (rule)
        {
            case OrderRule order:
                if (order.StartAfter.Count == 0)
                    throw new ScenarioException($"{what}: start_after is empty; name the VMs or groups it starts after");
                foreach (var name in order.Vms.Concat(order.StartAfter))
                {
                    if (!vms.Contains(name) && !groups.ContainsKey(name))
                        throw new ScenarioException($"{what}: '{name}' is neither a VM nor a group");
                }

                return;
            case LocationRule l:
                if (l.Expression.Walk().Any(e => e is DateRange or DateSpec) && problem.Now is null)
                    throw new ScenarioException($"{what}: a date expression needs the scenario's \"now\" (like \"2026-12-24T18:00:00Z\"): the planner has no clock");
                if (double.IsNaN(l.Score))
                    throw new ScenarioException($"{what}: score is not a number");
                break;
            case ColocationRule c:
                if (double.IsNaN(c.Score))
                    throw new ScenarioException($"{what}: score is not a number");
                if (c.With is { } anchor)
                {
                    if (!vms.Contains(anchor))
                        throw new ScenarioException($"{what}: with names '{anchor}', which is not a known VM");
                    if (c.Vms.Contains(anchor))
                        throw new ScenarioException($"{what}: '{anchor}' is both the anchor (with) and in vms; a VM cannot follow itself");
                }
                else if (c.Vms.Distinct().Count() < 2)
                {
                    throw new ScenarioException($"{what}: a colocation without \"with\" needs at least two VMs (or name an anchor with \"with\")");
                }

                if (c.NodeAttribute is { } attribute && string.IsNullOrWhiteSpace(attribute))
                    throw new ScenarioException($"{what}: node_attribute is empty; name a node attribute (like rack) or leave it out");
                if (c.AtMost is { } k)
                {
                    if (c.Score != Score.MinusInfinity || c.With is not null)
                        throw new ScenarioException($"{what}: at_most is a spread limit: it goes with score -INFINITY and no \"with\"");
                    if (k < 1)
                        throw new ScenarioException($"{what}: at_most must be 1 or more, not {k}");
                }

                break;
        }

        foreach (var vm in rule.Vms)
        {
            if (!vms.Contains(vm))
                throw new ScenarioException($"{what}: unknown VM '{vm}'");
        }
    }

    private static void Unique(IEnumerable<string> names, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!seen.Add(name))
                throw new ScenarioException($"duplicate {what} name '{name}'");
        }
    }

    /// <summary>
    /// A VM waits for the anchors it follows and for what it starts after; a cycle could never be ordered. An
    /// INFINITY group (symmetric, one node) is placed as one, so it counts as one VM here.
    /// </summary>
    private static void NoCycle(PlacementProblem problem, Dictionary<string, List<string>> groups)
    {
        var group = new Dictionary<string, string>(StringComparer.Ordinal);
        string Of(string vm) => group.TryGetValue(vm, out var g) && g != vm ? group[vm] = Of(g) : vm;
        foreach (var c in problem.Rules.OfType<ColocationRule>().Where(c => c is { Score: Score.Infinity, With: null, NodeAttribute: null }))
        {
            foreach (var vm in c.Vms.Skip(1))
            {
                var (a, b) = (Of(vm), Of(c.Vms[0]));
                if (a != b)
                    group[a] = b;
            }
        }

        var edges = new Dictionary<string, List<(string To, string Rule)>>(StringComparer.Ordinal);
        void Add(string from, string to, string rule)
        {
            (from, to) = (Of(from), Of(to));
            if (from == to)
                return;
            if (!edges.TryGetValue(from, out var list))
                edges[from] = list = [];
            list.Add((to, rule));
        }

        IEnumerable<string> Members(string name) => groups.TryGetValue(name, out var g) ? g : [name];
        foreach (var rule in problem.Rules)
        {
            switch (rule)
            {
                case ColocationRule { With: { } anchor } c:
                    foreach (var vm in c.Vms)
                        Add(vm, anchor, c.Name);
                    break;
                case OrderRule o:
                    foreach (var then in o.Vms.SelectMany(Members))
                    {
                        foreach (var first in o.StartAfter.SelectMany(Members))
                            Add(then, first, o.Name);
                    }

                    break;
            }
        }

        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the path, 2: done
        var path = new List<string>();
        var via = new List<string>(); // via[i]: the rule from path[i] to path[i + 1]
        foreach (var start in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(start) == 0)
                Visit(start);
        }

        void Visit(string vm)
        {
            state[vm] = 1;
            path.Add(vm);
            foreach (var (to, rule) in edges.GetValueOrDefault(vm) ?? [])
            {
                if (state.GetValueOrDefault(to) == 1)
                {
                    var i = path.IndexOf(to);
                    var cycle = string.Join(" -> ", path.Skip(i).Append(to));
                    var rules = string.Join(", ", via.Skip(i).Append(rule).Distinct());
                    throw new ScenarioException($"rules {rules} make a cycle ({cycle}): each waits for the next, so none could be placed or started first");
                }

                if (state.GetValueOrDefault(to) == 2)
                    continue;
                via.Add(rule);
                Visit(to);
                via.RemoveAt(via.Count - 1);
            }

            path.RemoveAt(path.Count - 1);
            state[vm] = 2;
        }
    }
}
