using Virt.Scheduler;

namespace Virt.Tests.Scheduler;

/// <summary>
/// Checks a plan against its problem without using engine code: replays the decisions step by step over the
/// starting placement, checks every hard rule (location, colocation on a node or by attribute, directed or
/// symmetric, spread limits, negative totals, failure maps), the start order, the migration limits and what each
/// action promises, and proves the N+X claim by trying every set of X failed nodes with the given failover map.
/// Throws with a description of the first violation.
/// </summary>
internal sealed class PlanChecker
{
    private readonly PlacementProblem _p;
    private readonly PlanResult _r;
    private readonly PlacementPolicy _policy;
    private readonly Dictionary<string, NodeSpec> _nodes;
    private readonly Dictionary<string, VmSpec> _vms;
    private readonly string[] _dims;
    private readonly Dictionary<string, string?> _at;
    private readonly HashSet<string> _dead = [];
    private readonly HashSet<string> _closed = [];
    private readonly HashSet<string> _unplaced;

    public PlanChecker(PlacementProblem problem, PlanResult result)
    {
        _p = problem;
        _r = result;
        _policy = problem.Policy ?? new PlacementPolicy();
        _nodes = problem.Nodes.ToDictionary(n => n.Name);
        _vms = problem.Vms.ToDictionary(v => v.Name);
        _dims = problem.Nodes.SelectMany(n => n.Capacity.Keys).Distinct().ToArray();
        _at = problem.Vms.ToDictionary(v => v.Name, v => v.Node);
        _unplaced = result.Unplaced.Select(u => u.Vm).ToHashSet();
        foreach (var n in problem.Nodes.Where(n => n.State is NodeState.Down or NodeState.Maintenance))
            _dead.Add(n.Name);
        foreach (var n in problem.Nodes.Where(n => n.State != NodeState.Up))
            _closed.Add(n.Name);
    }

    /// <summary>
    /// May <paramref name="vm"/> run on <paramref name="node"/> as a starting point, given where the VMs in the
    /// problem run: its hard rules hold and its totals are not negative (no roll-back allowance). For generators.
    /// </summary>
    public static bool AllowsAtStart(PlacementProblem problem, string vm, string node)
    {
        var checker = new PlanChecker(problem, new PlanResult([], [], new ReservationReport(0, true, ""), 0, new Dictionary<string, IReadOnlyList<string>>()));
        checker._at[vm] = node;
        return checker.HardRules(vm, node, starting: false) is null
               && (!checker._policy.NegativeScoreForbids || (checker.LocationTotal(vm, node) >= 0 && checker.Total(vm, node) >= 0));
    }

    private double Cap(string node, string dim) => _nodes[node].Capacity.GetValueOrDefault(dim) * (_p.Overcommit?.GetValueOrDefault(dim, 1.0) ?? 1.0);

    private double Used(string node, string dim) => _at.Where(a => a.Value == node).Sum(a => _vms[a.Key].Demand.GetValueOrDefault(dim));

    private bool Alive(string node) => !_dead.Contains(node);

    private bool Running(string vm) => _at[vm] is { } n && Alive(n);

    public void CheckAll()
    {
        switch (_p.Action)
        {
            case PlanAction.Fail f:
                foreach (var n in f.Nodes)
                {
                    _dead.Add(n);
                    _closed.Add(n);
                }

                foreach (var vm in _at.Where(a => a.Value is not null && f.Nodes.Contains(a.Value)).Select(a => a.Key).ToList())
                {
                    var handled = _r.Decisions.Any(d => d.Vm == vm && d.Kind == DecisionKind.Restart) || _unplaced.Contains(vm);
                    Require(handled, $"{vm} was on failed {_at[vm]} but is neither restarted nor explained");
                    Require(_vms[vm].Ha || !_r.Decisions.Any(d => d.Vm == vm), $"{vm} is not HA but was restarted");
                    _at[vm] = null;
                }

                break;
            case PlanAction.Evacuate e:
                foreach (var n in e.Nodes)
                    _closed.Add(n);
                break;
        }

        var final = new Dictionary<string, string?>(_at);
        foreach (var d in _r.Decisions)
            final[d.Vm] = d.Kind == DecisionKind.Stop ? null : d.To;
        var stopsAllowed = _policy.Preempt || _p.Action is PlanAction.Evacuate { Unplaceable: Unplaceable.Stop } or PlanAction.Repair { Unplaceable: Unplaceable.Stop };
        var moved = new HashSet<string>();
        var perNode = new Dictionary<string, int>();
        var stepOf = new Dictionary<string, int>();
        var expectedStep = 1;
        foreach (var d in _r.Decisions)
        {
            Require(d.Step == expectedStep++, $"steps are not 1, 2, 3...: {d.Step}");
            switch (d.Kind)
            {
                case DecisionKind.Stop:
                    Require(stopsAllowed, $"step {d.Step}: {d.Vm} is stopped, but neither preemption nor unplaceable stop allows it");
                    Require(_at[d.Vm] == d.From, $"step {d.Step}: {d.Vm} stops on {d.From} but runs on {_at[d.Vm]}");
                    _at[d.Vm] = null;
                    continue;
                case DecisionKind.Migrate:
                    Require(_at[d.Vm] == d.From && d.From != d.To, $"step {d.Step}: {d.Vm} migrates from {d.From} but runs on {_at[d.Vm]}");
                    perNode[d.From!] = perNode.GetValueOrDefault(d.From!) + 1;
                    perNode[d.To!] = perNode.GetValueOrDefault(d.To!) + 1;
                    if (_p.Action is PlanAction.Repair)
                        RepairMoveIsJustified(d);
                    break;
                default:
                    Require(_at[d.Vm] is null, $"step {d.Step}: {d.Vm} starts but already runs on {_at[d.Vm]}");
                    StartOrder(d, stepOf);
                    stepOf[d.Vm] = d.Step;
                    break;
            }

            var to = d.To!;
            Require(!_closed.Contains(to), $"step {d.Step}: {d.Vm} goes to {to}, which takes no VMs");
            foreach (var dim in _dims)
            {
                var need = _vms[d.Vm].Demand.GetValueOrDefault(dim);
                Require(Used(to, dim) + need <= Cap(to, dim) + 1e-6, $"step {d.Step}: {d.Vm} overfills {to} on {dim} ({Used(to, dim)} + {need} > {Cap(to, dim)})");
            }

            _at[d.Vm] = to;
            moved.Add(d.Vm);
            // Totals depend on the neighbours at the time: checked at the step, as they were decided.
            if (NegativeTotal(d.Vm, to, final) is { } negative)
                Require(false, $"step {d.Step}: {d.Vm} goes to {to} where its {negative}");
        }

        foreach (var vm in moved.Where(Running))
        {
            if (HardRules(vm, _at[vm]!, starting: true) is { } broken)
                Require(false, $"{vm} on {_at[vm]}: {broken}");
        }

        InfinityColocations();

        // The start was valid (repair aside): what is broken at the end must involve a VM the plan explains (lost,
        // stopped, or left unplaced), never be new breakage of VMs that are fine. A running VM's total may turn
        // negative when others arrive (as in Pacemaker, the next run, repair, moves it); repair must fix those too.
        foreach (var (vm, broken) in Violated(scores: _p.Action is PlanAction.Repair))
            Require(Involved(vm).Any(_unplaced.Contains), $"{vm} on {_at[vm]} breaks a rule ({broken}) after the plan and nothing involved is explained");
        if (_p.Action is PlanAction.Repair)
            Require(_r.Decisions.All(d => d.Kind is DecisionKind.Migrate or DecisionKind.Stop), "repair only migrates or stops");

        if (_p.Action is PlanAction.Rebalance or PlanAction.Repair)
        {
            var migrations = _r.Decisions.Count(d => d.Kind == DecisionKind.Migrate);
            Require(migrations <= _policy.MaxMigrations, $"{migrations} migrations > max_migrations {_policy.MaxMigrations}");
            Require(perNode.Values.All(c => c <= _policy.MaxMigrationsPerNode), "a node takes part in more migrations than max_migrations_per_node");
        }

        if (_p.Action is PlanAction.Evacuate evacuate)
        {
            foreach (var vm in _p.Vms.Where(v => v.Node is not null && evacuate.Nodes.Contains(v.Node)).Select(v => v.Name))
            {
                var stays = _at[vm] is { } n && evacuate.Nodes.Contains(n);
                Require(!stays || _unplaced.Contains(vm), $"{vm} is still on evacuated {_at[vm]} with no explanation");
                Require(!stays || evacuate.Unplaceable == Unplaceable.Keep || !Alive(_at[vm]!), $"{vm} stays on evacuated {_at[vm]} although unplaceable is stop");
            }
        }

        foreach (var u in _r.Unplaced)
            Require(u.Reasons.Count > 0 && u.Reasons.Values.All(r => !string.IsNullOrWhiteSpace(r)), $"{u.Vm} is unplaced without reasons");

        if (_r.Reservation.Holds)
            ReservationWitness();
    }

    /// <summary>A start waits for every start it must follow (listed in After, earlier step); a mandatory one needs its first running.</summary>
    private void StartOrder(PlanDecision d, Dictionary<string, int> stepOf)
    {
        var firsts = Firsts(d.Vm).ToList();
        foreach (var a in d.After)
        {
            var waited = _r.Decisions.FirstOrDefault(x => x.Step == a);
            Require(waited is not null && firsts.Any(f => f.Vm == waited.Vm) && waited.Kind is DecisionKind.Start or DecisionKind.Restart,
                $"step {d.Step}: {d.Vm} lists step {a} in after, which is not a start it waits for");
        }

        foreach (var (first, mandatory, rule) in firsts)
        {
            var started = _r.Decisions.FirstOrDefault(x => x.Vm == first && x.Kind is DecisionKind.Start or DecisionKind.Restart);
            if (started is not null)
            {
                Require(started.Step < d.Step && d.After.Contains(started.Step), $"step {d.Step}: {d.Vm} starts before {first} (step {started.Step}) although {rule} orders it after");
            }
            else if (mandatory)
            {
                Require(Running(first), $"step {d.Step}: {d.Vm} starts but {first}, which {rule} makes it wait for (mandatory), does not run");
            }
        }
    }

    private IEnumerable<(string Vm, bool Mandatory, string Rule)> Firsts(string vm)
    {
        foreach (var o in _p.Rules.OfType<OrderRule>())
        {
            if (!o.Vms.SelectMany(Members).Contains(vm))
                continue;
            foreach (var first in o.StartAfter.SelectMany(Members).Distinct().Where(f => f != vm))
                yield return (first, o.Mandatory, o.Name);
        }
    }

    private IEnumerable<string> Members(string name) =>
        _vms.ContainsKey(name) ? [name] : _p.Vms.Where(v => v.Group == name).Select(v => v.Name);

    /// <summary>A repair migration leaves a rule violation, or gains more total score than the stickiness.</summary>
    private void RepairMoveIsJustified(PlanDecision d)
    {
        var from = d.From!;
        if (HardRules(d.Vm, from, starting: false) is not null || NegativeTotal(d.Vm, from) is not null)
            return;
        // A group member moving toward its group, or bonded VMs moving with another that violates: moved with its unit.
        if (_r.Decisions.Any(x => x.Step != d.Step && x.To == d.To && x.Kind == DecisionKind.Migrate && Bonded(x.Vm, d.Vm)))
            return;
        var before = Total(d.Vm, from);
        var saved = _at[d.Vm];
        _at[d.Vm] = d.To;
        var after = Total(d.Vm, d.To!);
        _at[d.Vm] = saved;
        Require(after - before > _policy.Stickiness + 1e-9, $"step {d.Step}: repair moves {d.Vm} {from} -> {d.To} without a violation and for a gain of {after - before} (stickiness {_policy.Stickiness})");
    }

    /// <summary>Tied to one node by INFINITY colocations, directly or through others (such VMs move as one).</summary>
    private bool Bonded(string a, string b)
    {
        var links = _p.Rules.OfType<ColocationRule>().Where(c => c.Score == Score.Infinity && c.NodeAttribute is null)
            .Select(c => c.With is null ? c.Vms : c.Vms.Append(c.With).ToList()).ToList();
        var reached = new HashSet<string> { a };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var set in links.Where(l => l.Any(reached.Contains)))
                grew |= set.Aggregate(false, (g, vm) => reached.Add(vm) || g);
        }

        return reached.Contains(b);
    }

    /// <summary>Every running VM that breaks a hard rule (not the failure map: that is about starts), with the rule.</summary>
    private List<(string Vm, string Broken)> Violated(bool scores) =>
        _at.Keys.Where(Running).Select(vm => (vm, HardRules(vm, _at[vm]!, starting: false) ?? (scores ? NegativeTotal(vm, _at[vm]!) : null))).Where(x => x.Item2 is not null)
            .Select(x => (x.vm, x.Item2!)).ToList();

    /// <summary>The VMs that share a rule with <paramref name="vm"/> (any of them may be the one that yields).</summary>
    private IEnumerable<string> Involved(string vm) =>
        _p.Rules.Where(r => r.Vms.Contains(vm) || (r is ColocationRule { With: { } w } && w == vm))
            .SelectMany(r => r is ColocationRule { With: { } w } ? r.Vms.Append(w) : r.Vms).Append(vm).Distinct();

    private string? Zone(string? attribute, string node) =>
        attribute is null ? node : _nodes[node].Attributes.TryGetValue(attribute, out var v) ? v.ToLowerInvariant() : null;

    /// <summary>The first hard rule <paramref name="vm"/> breaks on <paramref name="node"/> given where everything else runs, or null.</summary>
    /// <param name="starting">Also the failure map, which only matters when a VM starts or moves there.</param>
    private string? HardRules(string vm, string node, bool starting)
    {
        foreach (var rule in _p.Rules)
        {
            switch (rule)
            {
                case LocationRule { Score: Score.MinusInfinity } l when l.Vms.Contains(vm) && l.Expression.Holds(_nodes[node].Attributes, _p.Now):
                    return $"violates {l.Name} (-INFINITY)";
                case LocationRule { Score: Score.Infinity } l when l.Vms.Contains(vm) && !l.Expression.Holds(_nodes[node].Attributes, _p.Now):
                    return $"violates {l.Name} (INFINITY)";
                case ColocationRule { Score: Score.MinusInfinity, With: null } c when c.Vms.Contains(vm):
                {
                    var zone = Zone(c.NodeAttribute, node);
                    var others = c.Vms.Distinct().Count(o => o != vm && Running(o) && zone is not null && Zone(c.NodeAttribute, _at[o]!) == zone);
                    if (others + 1 > (c.AtMost ?? 1))
                        return $"{others + 1} members of {c.Name} in {zone} (at most {c.AtMost ?? 1})";
                    break;
                }

                case ColocationRule { Score: Score.MinusInfinity, With: { } anchor } c:
                {
                    var zone = Zone(c.NodeAttribute, node);
                    if (zone is null)
                        break;
                    if (c.Vms.Contains(vm) && Running(anchor) && Zone(c.NodeAttribute, _at[anchor]!) == zone)
                        return $"shares {zone} with {anchor} against {c.Name} (-INFINITY with)";
                    if (anchor == vm && c.Vms.FirstOrDefault(d => Running(d) && Zone(c.NodeAttribute, _at[d]!) == zone) is { } dependent)
                        return $"shares {zone} with {dependent} against {c.Name} (-INFINITY with)";
                    break;
                }

                case ColocationRule { Score: Score.Infinity, With: { } anchor } c when c.Vms.Contains(vm):
                    if (!Running(anchor))
                        return $"follows {anchor} ({c.Name}), which does not run";
                    if (Zone(c.NodeAttribute, node) is not { } z || Zone(c.NodeAttribute, _at[anchor]!) != z)
                        return $"follows {anchor} ({c.Name}) but {anchor} is on {_at[anchor]}";
                    break;
                case ColocationRule { Score: Score.Infinity, With: null, NodeAttribute: { } attribute } c when c.Vms.Contains(vm):
                    var mine = Zone(attribute, node);
                    if (c.Vms.FirstOrDefault(o => o != vm && Running(o) && (mine is null || Zone(attribute, _at[o]!) != mine)) is { } apart)
                        return $"not in the same {attribute} as {apart} ({c.Name})";
                    break;
            }
        }

        if (starting && _vms[vm].Failures?.GetValueOrDefault(node) is { } h)
        {
            var threshold = _vms[vm].MigrationThreshold ?? _policy.MigrationThreshold;
            var timeout = _vms[vm].FailureTimeoutSeconds ?? _policy.FailureTimeoutSeconds;
            if (h.Count >= threshold && h.LastSecondsAgo < timeout)
                return "placed despite its failure map";
        }

        return null;
    }

    private double LocationTotal(string vm, string node) =>
        _p.Rules.OfType<LocationRule>().Where(l => l.Vms.Contains(vm) && double.IsFinite(l.Score) && l.Expression.Holds(_nodes[node].Attributes, _p.Now)).Sum(l => l.Score);

    /// <summary>Location plus colocation scores of <paramref name="vm"/> on <paramref name="node"/>, others where they run.</summary>
    private double Total(string vm, string node)
    {
        var total = LocationTotal(vm, node);
        foreach (var c in _p.Rules.OfType<ColocationRule>().Where(c => double.IsFinite(c.Score)))
        {
            var zone = Zone(c.NodeAttribute, node);
            if (zone is null)
                continue;
            if (c.With is null && c.Vms.Contains(vm))
                total += c.Score * c.Vms.Distinct().Count(o => o != vm && Running(o) && Zone(c.NodeAttribute, _at[o]!) == zone);
            else if (c.With is { } anchor && c.Vms.Contains(vm) && Running(anchor) && Zone(c.NodeAttribute, _at[anchor]!) == zone)
                total += c.Score;
        }

        return total;
    }

    /// <summary>
    /// With negative-score-forbids: a negative location total always forbids; a negative total made so by colocation
    /// forbids unless every node the hard rules allow is negative (Pacemaker rolls those scores back).
    /// </summary>
    /// <param name="final">Also accept a total (or roll-back) that the final placement justifies: VMs placed together
    /// arrive in consecutive steps, and a preempted VM moves before the VM that preempts it arrives, but each was
    /// placed knowing the others.</param>
    private string? NegativeTotal(string vm, string node, Dictionary<string, string?>? final = null)
    {
        if (!_policy.NegativeScoreForbids)
            return null;
        if (LocationTotal(vm, node) < 0)
            return $"location total {LocationTotal(vm, node)} < 0";
        if (Total(vm, node) >= 0 || RolledBack(vm))
            return null;
        if (final is not null && final[vm] == node)
        {
            var now = new Dictionary<string, string?>(_at);
            try
            {
                foreach (var (k, v) in final)
                    _at[k] = v;
                if (Total(vm, node) >= 0 || RolledBack(vm))
                    return null;
            }
            finally
            {
                foreach (var (k, v) in now)
                    _at[k] = v;
            }
        }

        return $"total {Total(vm, node)} < 0";
    }

    /// <summary>No node the hard rules allow has a non-negative total: Pacemaker rolls the colocation scores back.</summary>
    private bool RolledBack(string vm)
    {
        var saved = _at[vm];
        try
        {
            _at[vm] = null;
            return !_p.Nodes.Any(n => !_closed.Contains(n.Name) && HardRules(vm, n.Name, starting: true) is null && !StrandsFollowers(vm, saved, n.Name)
                                      && WithItsGroup(vm, n.Name) && LocationTotal(vm, n.Name) >= 0 && Total(vm, n.Name) >= 0);
        }
        finally
        {
            _at[vm] = saved;
        }
    }

    /// <summary>A member of an INFINITY group (one node) can only be where its running members are.</summary>
    private bool WithItsGroup(string vm, string node) =>
        _p.Rules.OfType<ColocationRule>().Where(c => c is { Score: Score.Infinity, With: null, NodeAttribute: null } && c.Vms.Contains(vm))
            .All(c => c.Vms.All(o => o == vm || !Running(o) || _at[o] == node));

    /// <summary>Would a running anchor moving from <paramref name="from"/> to <paramref name="to"/> leave an INFINITY follower behind (on its node, or outside its zone)? Then that node is not open to it alone.</summary>
    private bool StrandsFollowers(string vm, string? from, string to) =>
        from is not null && from != to && _p.Rules.OfType<ColocationRule>().Any(c => c.Score == Score.Infinity && c.With == vm
            && c.Vms.Any(d => Running(d) && Zone(c.NodeAttribute, _at[d]!) is { } z && Zone(c.NodeAttribute, to) != z));

    private void InfinityColocations()
    {
        foreach (var rule in _p.Rules.OfType<ColocationRule>().Where(c => c.Score == Score.Infinity && c.With is null && c.NodeAttribute is null))
        {
            var running = rule.Vms.Where(Running).Select(v => _at[v]).Distinct().ToList();
            Require(running.Count <= 1, $"{rule.Name} (INFINITY) members run on {string.Join(", ", running)}");
            foreach (var vm in rule.Vms.Where(v => !Running(v)))
                Require(!_r.Decisions.Any(d => d.Vm == vm && d.Kind != DecisionKind.Stop), $"{vm} of {rule.Name} was started or moved but does not run with the others");
        }
    }

    /// <summary>For every set of X live nodes failing, each HA VM there restarts on its first surviving target, and every rule still holds.</summary>
    private void ReservationWitness()
    {
        var x = _p.ReserveFailures;
        if (x == 0)
            return;
        var alive = _p.Nodes.Where(n => Alive(n.Name)).Select(n => n.Name).ToList();
        var ha = _at.Where(a => a.Value is not null && Alive(a.Value) && Restartable(a.Key)).Select(a => a.Key).ToList();
        foreach (var vm in ha)
        {
            Require(_r.FailoverTargets.TryGetValue(vm, out var t) && t.Count == x && t.Distinct().Count() == x && !t.Contains(_at[vm]!),
                $"reservation holds but {vm} has no valid failover targets");
        }

        var before = new Dictionary<string, string?>(_at);
        foreach (var failed in Combinations(alive, Math.Min(x, alive.Count)))
        {
            var arrived = new List<string>();
            try
            {
                foreach (var (vm, node) in before.Where(a => a.Value is not null && failed.Contains(a.Value)))
                {
                    if (!Restartable(vm))
                    {
                        _at[vm] = null; // lost
                        continue;
                    }

                    var target = _r.FailoverTargets[vm].FirstOrDefault(t => !failed.Contains(t));
                    Require(target is not null, $"if {string.Join("+", failed)} fail, {vm} has no surviving target");
                    Require(!_closed.Contains(target!), $"{vm}'s failover target {target} takes no VMs");
                    _at[vm] = target;
                    arrived.Add(vm);
                }

                foreach (var target in arrived.Select(v => _at[v]!).Distinct())
                {
                    foreach (var dim in _dims)
                        Require(Used(target, dim) <= Cap(target, dim) + 1e-6, $"if {string.Join("+", failed)} fail, {target} overflows on {dim}: {Used(target, dim)} > {Cap(target, dim)}");
                }

                foreach (var vm in arrived)
                {
                    if (HardRules(vm, _at[vm]!, starting: true) is { } broken)
                        Require(false, $"if {string.Join("+", failed)} fail, {vm} restarts on {_at[vm]} but {broken}");
                }
            }
            finally
            {
                foreach (var (vm, node) in before)
                    _at[vm] = node;
            }
        }
    }

    /// <summary>HA, and not following (by INFINITY, transitively) an anchor that is not: only then is it restarted, and owed failover room.</summary>
    private bool Restartable(string vm, int depth = 0) =>
        _vms[vm].Ha && (depth > _vms.Count || _p.Rules.OfType<ColocationRule>().Where(c => c.Score == Score.Infinity && c.With is not null && c.Vms.Contains(vm))
            .All(c => Restartable(c.With!, depth + 1)));

    private static IEnumerable<List<string>> Combinations(List<string> items, int k)
    {
        if (k == 0)
        {
            yield return [];
            yield break;
        }

        for (var i = 0; i <= items.Count - k; i++)
        {
            foreach (var rest in Combinations(items.Skip(i + 1).ToList(), k - 1))
                yield return [items[i], .. rest];
        }
    }

    private static void Require(bool condition, string violation)
    {
        if (!condition)
            throw new InvalidOperationException(violation);
    }
}
