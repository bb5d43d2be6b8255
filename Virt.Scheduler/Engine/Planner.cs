using System.Globalization;

namespace Virt.Scheduler.Engine;

/// <summary>
/// State shared by the actions while one plan is made: the cluster, the reservation, and the decisions and
/// unplaced VMs so far. Knows how to choose a node, place or move a unit, and explain a refusal.
/// </summary>
internal sealed class Planner
{
    private readonly List<Entry> _decisions = [];
    private readonly SortedDictionary<string, Dictionary<string, string>> _unplaced = new(StringComparer.Ordinal);

    public Planner(PlacementProblem problem)
    {
        S = new ClusterState(problem);
        R = new FailoverReservation(S);
        F = new Feasibility(S, R);
        R.Attach(F);
        R.ReserveExisting();
        Origin = S.Location.ToArray();
    }

    public ClusterState S { get; }

    public FailoverReservation R { get; }

    public Feasibility F { get; }

    /// <summary>Where each VM ran before this plan (-1: pending).</summary>
    public int[] Origin { get; }

    public bool Balanced => S.Policy.Strategy == PlacementStrategy.Balanced;

    /// <summary>
    /// The best node for <paramref name="unit"/>: highest preference score, then the strategy's load order
    /// (balanced: least loaded after; pack: most loaded that fits), then name. -1 when no node passes.
    /// </summary>
    public int Choose(int[] unit, bool requireReservation = true, Func<int, bool>? allowed = null) =>
        Choose(unit, out _, requireReservation, allowed);

    /// <summary>
    /// For a running unit that must move (evacuation, repair): first where its followers by attribute can stay with
    /// it, then anywhere (they follow afterwards), each with the N+X reservation kept if possible, then without.
    /// </summary>
    public int ChooseMove(int[] unit, out bool reservationKept, Func<int, bool>? allowed = null)
    {
        foreach (var reserve in new[] { true, false })
        {
            reservationKept = reserve;
            foreach (var hold in new[] { true, false })
            {
                F.HoldAnchors = hold;
                try
                {
                    var node = Choose(unit, reserve, allowed);
                    if (node >= 0)
                        return node;
                }
                finally
                {
                    F.HoldAnchors = true;
                }
            }
        }

        reservationKept = true;
        return -1;
    }

    /// <param name="possible">How many nodes passed the hard checks (for the explanation).</param>
    public int Choose(int[] unit, out int possible, bool requireReservation = true, Func<int, bool>? allowed = null)
    {
        var demand = S.DemandOf(unit);
        HashSet<int>? refused = null;
        possible = -1;
        while (true)
        {
            var best = -1;
            var seen = 0;
            double bestPreference = 0, bestMetric = 0;
            for (var n = 0; n < S.Nodes.Length; n++)
            {
                if ((allowed is not null && !allowed(n)) || F.Check(unit, n, ignoreReservation: !requireReservation, demand) is not null)
                    continue;
                seen++;
                if (refused?.Contains(n) == true)
                    continue;
                var preference = Preference(unit, n);
                var metric = Balanced ? S.Load(n, demand) : -S.Load(n, demand);
                if (best < 0 || preference > bestPreference || (preference == bestPreference && metric < bestMetric - 1e-12))
                {
                    best = n;
                    bestPreference = preference;
                    bestMetric = metric;
                }
            }

            if (possible < 0)
                possible = seen;
            if (best < 0 || !requireReservation || R.CanReserve(unit, best))
                return best;
            (refused ??= []).Add(best);
        }
    }

    public double Preference(int[] unit, int node)
    {
        double score = 0;
        foreach (var vm in unit)
            score += S.Rules.Preference(vm, node);
        return score;
    }

    /// <summary>Puts a pending unit on <paramref name="node"/> and holds its failover targets.</summary>
    public void Place(int[] unit, int node)
    {
        foreach (var vm in unit)
            S.Assign(vm, node);
        R.TryReserve(unit, node);
        R.Repair(node); // only an evacuation that had to ignore the reservation can break it here
    }

    /// <summary>Moves a running unit; its failover targets are chosen again from the new node.</summary>
    public void Move(int[] unit, int node)
    {
        foreach (var vm in unit)
        {
            R.Release(vm);
            S.Unassign(vm);
        }

        Place(unit, node);
    }

    /// <summary>Takes a unit off its node (stopped or lost), giving back what it held.</summary>
    public void Remove(int vm)
    {
        R.Release(vm);
        S.Unassign(vm);
    }

    public void Record(int vm, DecisionKind kind, int from, int to, string why, int? insertAt = null)
    {
        var entry = new Entry(vm, kind, from, to, why);
        if (insertAt is { } i)
            _decisions.Insert(i, entry);
        else
            _decisions.Add(entry);
    }

    public int DecisionCount => _decisions.Count;

    /// <summary>Drops the start planned earlier for <paramref name="vm"/> (it was preempted before it ever ran).</summary>
    public void ForgetStart(int vm) => _decisions.RemoveAll(d => d.Vm == vm && d.Kind is DecisionKind.Start or DecisionKind.Restart);

    public int IndexOfDecision(int vm) => _decisions.FindIndex(d => d.Vm == vm);

    public void Unplaced(int vm, Dictionary<string, string> reasons) => _unplaced[S.VmName(vm)] = reasons;

    public void Placed(int vm) => _unplaced.Remove(S.VmName(vm));

    /// <summary>Per node, why <paramref name="unit"/> is not there.</summary>
    public Dictionary<string, string> Explain(int[] unit)
    {
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        if (OrderBlock(unit) is { } blocked)
        {
            var text = blocked.Describe(S);
            foreach (var node in S.Nodes)
                reasons[node.Name] = text;
            return reasons;
        }

        for (var n = 0; n < S.Nodes.Length; n++)
        {
            if (F.Check(unit, n) is { } rejection)
                reasons[S.NodeName(n)] = rejection.Describe(S);
            else if (!R.CanReserve(unit, n))
                reasons[S.NodeName(n)] = new Rejection(RejectionKind.NoFailoverTarget, unit[0], n).Describe(S);
            else if (S.Location[unit[0]] == n)
                reasons[S.NodeName(n)] = "runs here";
            else
                reasons[S.NodeName(n)] = TotalText(unit, n) is { } total ? $"possible, but not chosen ({total})" : "possible, but not chosen";
        }

        return reasons;
    }

    /// <summary>Why the unit went to <paramref name="node"/>, for the decision's text: the deciding sum, then load.</summary>
    /// <param name="possible">Nodes that passed the hard checks, if the caller counted them already.</param>
    /// <param name="vm">Whose decision it is (the unit's others are named); the first member when absent.</param>
    public string WhyChosen(int[] unit, int node, int? possible = null, int vm = -1)
    {
        var parts = new List<string>();
        if (TotalText(unit, node) is { } total)
            parts.Add(total);
        if (unit.Length > 1)
            parts.Add(Ties(unit, vm < 0 ? unit[0] : vm));
        possible ??= Enumerable.Range(0, S.Nodes.Length).Count(n => n == node || F.Check(unit, n, ignoreReservation: true) is null);
        parts.Add(string.Create(CultureInfo.InvariantCulture, $"load {Percent(S.Load(node))} after ({(Balanced ? "balanced" : "pack")}, {possible} node{(possible == 1 ? "" : "s")} possible)"));
        return string.Join("; ", parts);
    }

    /// <summary>What holds a unit together: "with cache, db (INFINITY colocation)", or "with web-2 (web-2 follows web-1, rule web-pair)".</summary>
    private string Ties(int[] unit, int self)
    {
        var follows = unit.SelectMany(vm => S.Rules.VmFollows[vm].Select(f => S.Rules.Follows[f]))
            .Where(f => f.Score == Score.Infinity && unit.Contains(f.Anchor))
            .Select(f => $"{S.VmName(f.Dependent)} follows {S.VmName(f.Anchor)}, rule {f.Rule.Name}").ToList();
        var others = string.Join(", ", unit.Where(v => v != self).Select(S.VmName));
        return follows.Count == 0 ? $"with {others} (INFINITY colocation)" : $"with {others} ({string.Join("; ", follows)})";
    }

    /// <summary>"total +150 (location prefer-ssd +100, colocation near-db +50)" for the unit on the node, or null when no score applies.</summary>
    public string? TotalText(int[] unit, int node)
    {
        var terms = unit.SelectMany(vm => S.Rules.Terms(vm, node)).ToList();
        return terms.Count == 0 ? null : Rejection.Total(terms);
    }

    /// <summary>What <paramref name="vm"/> must wait for: anchors of its directed colocations and (with <paramref name="orders"/>) what it starts after.</summary>
    public IEnumerable<int> Prerequisites(int vm, bool orders = true)
    {
        var rules = S.Rules;
        foreach (var f in rules.VmFollows[vm])
            yield return rules.Follows[f].Anchor;
        foreach (var r in rules.VmApart[vm])
        {
            if (rules.Apart[r].Yielder == vm)
                yield return rules.Apart[r].Members[1];
        }

        if (!orders)
            yield break;
        foreach (var o in rules.VmOrders[vm])
            yield return rules.Orders[o].First;
    }

    /// <summary>
    /// The first mandatory order of the unit that cannot be met: a VM it starts after neither runs nor starts in this
    /// plan (before it), nor is in the unit.
    /// </summary>
    public Rejection? OrderBlock(ReadOnlySpan<int> unit)
    {
        foreach (var vm in unit)
        {
            foreach (var o in S.Rules.VmOrders[vm])
            {
                var order = S.Rules.Orders[o];
                if (!order.Mandatory || unit.Contains(order.First))
                    continue;
                var at = S.Location[order.First];
                if (at < 0 || !S.Alive[at])
                    return new Rejection(RejectionKind.OrderBlocked, vm, -1, Rule: o, Other: order.First);
            }
        }

        return null;
    }

    /// <summary>
    /// Nodes that keep the unit's running INFINITY followers where they may stay (in their zone), or null when no
    /// follower runs: an anchor that starts tries those first, as Pacemaker places an anchor with its dependents' scores.
    /// </summary>
    public Func<int, bool>? KeepsFollowers(int[] unit)
    {
        List<(Follow Follow, int Zone)>? held = null;
        foreach (var vm in unit)
        {
            foreach (var f in S.Rules.AnchorOf[vm])
            {
                var follow = S.Rules.Follows[f];
                if (follow.Score != Score.Infinity || unit.Contains(follow.Dependent) || S.Location[follow.Dependent] is not (var at and >= 0) || !S.Alive[at])
                    continue;
                if (follow.Zones.Of[at] >= 0)
                    (held ??= []).Add((follow, follow.Zones.Of[at]));
            }
        }

        return held is null ? null : n => held.All(h => h.Follow.Zones.Of[n] == h.Zone);
    }

    /// <summary>
    /// After the unit started or moved: its running INFINITY followers that no longer follow go after it; those that
    /// cannot are explained (and, with <paramref name="stop"/>, stopped). Also for a unit that stopped or was lost.
    /// </summary>
    public void FollowUp(IEnumerable<int> anchors, Unplaceable stop = Unplaceable.Keep)
    {
        foreach (var anchor in anchors)
        {
            foreach (var f in S.Rules.AnchorOf[anchor])
            {
                var follow = S.Rules.Follows[f];
                var dep = follow.Dependent;
                if (follow.Score != Score.Infinity || S.Location[dep] is not (var at and >= 0) || !S.Alive[at])
                    continue;
                if (F.Rules(dep, at, running: true) is not { Kind: RejectionKind.FollowElsewhere or RejectionKind.FollowNotRunning } broken)
                    continue;
                var unit = R.Units(S.Residents[at].Where(m => m == dep || (S.Rules.Bond[dep] >= 0 && S.Rules.Bond[m] == S.Rules.Bond[dep])).ToList()).First(u => u.Contains(dep));
                var why = S.Location[anchor] is var to0 and >= 0 ? $"follows {S.VmName(anchor)}, which went to {S.NodeName(to0)}" : $"follows {S.VmName(anchor)}, which no longer runs";
                var to = broken.Kind == RejectionKind.FollowNotRunning ? -1 : ChooseMove(unit, out _);
                if (to >= 0)
                {
                    Move(unit, to);
                    foreach (var vm in unit)
                        Placed(vm);
                    foreach (var vm in unit)
                        Record(vm, DecisionKind.Migrate, at, to, $"{why} (rule {follow.Rule.Name}); {WhyChosen(unit, to, vm: vm)}");
                    FollowUp(unit, stop);
                    continue;
                }

                var reasons = Explain(unit);
                reasons[S.NodeName(at)] = $"runs here, but {broken.Describe(S)}";
                foreach (var vm in unit)
                    Unplaced(vm, reasons);
                if (stop != Unplaceable.Stop)
                {
                    // Its failover targets assumed the anchor where it was: plan them again (they may be gone).
                    foreach (var vm in unit)
                        R.Release(vm);
                    R.TryReserve(unit, at);
                    continue;
                }

                foreach (var vm in unit)
                {
                    Remove(vm);
                    Record(vm, DecisionKind.Stop, at, -1, $"{why} (rule {follow.Rule.Name}) and can move nowhere (unplaceable stop)");
                }

                FollowUp(unit, stop);
            }
        }
    }

    /// <summary>Does a running (or planned) VM start after <paramref name="vm"/> by a mandatory order? Then it must not be stopped.</summary>
    public bool NeededFirst(int vm)
    {
        foreach (var o in S.Rules.FirstOf[vm])
        {
            var order = S.Rules.Orders[o];
            if (order.Mandatory && S.Location[order.Then] >= 0)
                return true;
        }

        return false;
    }

    /// <summary>
    /// Frees room for <paramref name="vm"/> by stopping lower-priority VMs on one node (the node where the highest
    /// evicted priority is lowest, then fewest evicted), then tries to re-place those elsewhere.
    /// </summary>
    public bool TryPreempt(int vm, DecisionKind kind, int from, string context)
    {
        if (S.Rules.Bond[vm] >= 0)
            return false;
        var priority = S.Vms[vm].Priority;
        var demand = S.DemandOf([vm]);
        var at = S.Location[vm];
        (int Node, List<int> Evict, int MaxPriority)? best = null;
        for (var n = 0; n < S.Nodes.Length; n++)
        {
            if (n == at || !S.Accepting[n] || F.Rules(vm, n, residents: false) is not null || R.ApartConflict([vm], n) is not null)
                continue;
            var evict = new List<int>();
            var blocked = false;
            foreach (var r in S.Rules.VmApart[vm])
            {
                var set = S.Rules.Apart[r];
                var zone = set.Zones.Of[n];
                if (zone < 0 || S.Rules.ApartCount[r][zone] - (at >= 0 && set.Zones.Of[at] == zone ? 1 : 0) < set.Limit)
                    continue;
                if (set.Zones.Attribute is not null || set.Limit != 1)
                {
                    blocked = true; // evicting across a zone, or choosing among several, is not worth its complexity here
                    continue;
                }

                foreach (var other in S.Residents[n].Where(o => S.Rules.VmApart[o].Contains(r)))
                {
                    if (S.Vms[other].Priority >= priority || !Evictable(other, vm))
                        blocked = true;
                    else if (!evict.Contains(other))
                        evict.Add(other);
                }
            }

            if (blocked)
                continue;
            var candidates = S.Residents[n]
                .Where(o => S.Vms[o].Priority < priority && Evictable(o, vm) && !evict.Contains(o))
                .OrderBy(o => S.Vms[o].Priority).ThenByDescending(o => S.Load(n) - S.Load(n, Negated(o))).ThenBy(o => S.VmName(o), StringComparer.Ordinal)
                .ToList();
            var freed = new double[S.D];
            foreach (var e in evict)
                Accumulate(freed, e);
            var k = 0;
            while (!FitsAfterEviction(n, demand, freed))
            {
                if (k == candidates.Count)
                {
                    blocked = true;
                    break;
                }

                evict.Add(candidates[k]);
                Accumulate(freed, candidates[k++]);
            }

            if (blocked || evict.Count == 0 || !R.CanReserve([vm], n) || !RulesHoldWithout(vm, n, evict))
                continue;
            var maxPriority = evict.Max(e => S.Vms[e].Priority);
            if (best is null || maxPriority < best.Value.MaxPriority || (maxPriority == best.Value.MaxPriority && evict.Count < best.Value.Evict.Count))
                best = (n, evict, maxPriority);
        }

        if (best is not { } chosen)
            return false;

        var insertAt = DecisionCount;
        var victims = chosen.Evict.OrderByDescending(e => S.Vms[e].Priority).ThenBy(e => S.VmName(e), StringComparer.Ordinal).ToList();
        var previous = new Dictionary<int, (DecisionKind Kind, int From)?>();
        foreach (var e in victims)
        {
            // A victim started earlier in this plan never ran: its start is cancelled, not followed by a stop.
            var started = _decisions.LastOrDefault(d => d.Vm == e && d.Kind is DecisionKind.Start or DecisionKind.Restart);
            previous[e] = started is null ? null : (started.Kind, started.From);
            if (started is not null)
                ForgetStart(e);
            Remove(e);
        }

        var evictedFrom = chosen.Node;
        insertAt = Math.Min(insertAt, DecisionCount);
        if (at >= 0)
            Move([vm], chosen.Node);
        else
            Place([vm], chosen.Node);
        var names = string.Join(", ", victims.Select(S.VmName));
        Placed(vm);
        Record(vm, kind, from, chosen.Node, $"{context}preempts {names} (lower priority than {priority})");
        foreach (var e in victims)
        {
            var why = $"preempted by {S.VmName(vm)} (priority {priority} > {S.Vms[e].Priority})";
            var to = Choose([e]);
            if (to >= 0)
            {
                Place([e], to);
                if (previous[e] is { } start)
                    Record(e, start.Kind, start.From, to, to == evictedFrom ? WhyChosen([e], to) : why + "; placed elsewhere", insertAt++);
                else if (to != evictedFrom)
                    Record(e, DecisionKind.Migrate, evictedFrom, to, why + "; moved", insertAt++);
                Placed(e); // back where it was (the greedy eviction took one too many): no decision
            }
            else
            {
                var reasons = Explain([e]);
                reasons[S.NodeName(chosen.Node)] = why;
                Unplaced(e, reasons);
                if (previous[e] is null)
                    Record(e, DecisionKind.Stop, evictedFrom, -1, why + "; no other node has room", insertAt++);
            }
        }

        return true;
    }

    /// <summary>Do <paramref name="vm"/>'s rules (its totals included) hold on <paramref name="node"/> once <paramref name="evict"/> have left?</summary>
    private bool RulesHoldWithout(int vm, int node, List<int> evict)
    {
        foreach (var e in evict)
            S.Unassign(e);
        var ok = F.Rules(vm, node) is null;
        foreach (var e in evict)
            S.Assign(e, node);
        return ok;
    }

    /// <summary>
    /// A VM preemption may stop: not tied to others by INFINITY colocation, nothing running (nor the preemptor) waits
    /// for it, not moved by this plan already (a migration followed by a stop would be wasted work), and not a
    /// neighbour that this plan's decisions of its colocation partners counted on.
    /// </summary>
    private bool Evictable(int vm, int preemptor) =>
        S.Rules.Bond[vm] < 0 && S.Rules.AnchorOf[vm].Length == 0 && !NeededFirst(vm) && (Origin[vm] < 0 || Origin[vm] == S.Location[vm])
        && !S.Rules.FirstOf[vm].Any(o => S.Rules.Orders[o].Then == preemptor && S.Rules.Orders[o].Mandatory)
        && !S.Rules.VmSoft[vm].Any(r => S.Rules.Soft[r].Members.Any(m => m != vm && S.Location[m] != Origin[m]));

    private double[] Negated(int vm)
    {
        var d = new double[S.D];
        for (var i = 0; i < S.D; i++)
            d[i] = -S.Demand[(vm * S.D) + i];
        return d;
    }

    private void Accumulate(double[] total, int vm)
    {
        for (var d = 0; d < S.D; d++)
            total[d] += S.Demand[(vm * S.D) + d];
    }

    private bool FitsAfterEviction(int node, double[] demand, double[] freed)
    {
        for (var d = 0; d < S.D; d++)
        {
            var i = (node * S.D) + d;
            if (S.Used[i] - freed[d] + demand[d] > S.Capacity[i] - R.Held(node, d) + 1e-9)
                return false;
        }

        return true;
    }

    public static string Percent(double load) => string.Create(CultureInfo.InvariantCulture, $"{load * 100:0}%");

    /// <summary>
    /// The plan, with starts in an order the order rules allow: a start waits (moves later, never earlier) until what it
    /// starts after has started, and lists those steps in <see cref="PlanDecision.After"/>. Delaying a start never
    /// breaks a step: every prefix of the new order uses no more than a prefix of the old one.
    /// </summary>
    public PlanResult Result(double elapsedMs)
    {
        var startOf = new Dictionary<int, int>();
        for (var i = 0; i < _decisions.Count; i++)
        {
            if (_decisions[i].Kind is DecisionKind.Start or DecisionKind.Restart)
                startOf[_decisions[i].Vm] = i;
        }

        var waits = new List<int>[_decisions.Count];
        for (var i = 0; i < _decisions.Count; i++)
        {
            if (_decisions[i].Kind is not (DecisionKind.Start or DecisionKind.Restart))
                continue;
            foreach (var o in S.Rules.VmOrders[_decisions[i].Vm])
            {
                if (startOf.TryGetValue(S.Rules.Orders[o].First, out var j) && j != i && !(waits[i] ??= []).Contains(j))
                    waits[i].Add(j);
            }
        }

        var order = new List<int>(_decisions.Count);
        var emitted = new bool[_decisions.Count];
        var held = new List<int>();
        for (var i = 0; i < _decisions.Count; i++)
        {
            if (!Ready(i))
            {
                held.Add(i);
                continue;
            }

            Emit(i);
            for (var released = true; released;)
            {
                released = false;
                foreach (var h in held)
                {
                    if (!Ready(h))
                        continue;
                    held.Remove(h);
                    Emit(h);
                    released = true;
                    break;
                }
            }
        }

        foreach (var h in held)
            Emit(h); // only a cycle could leave any, and the reader refuses cycles

        var step = new int[_decisions.Count];
        for (var k = 0; k < order.Count; k++)
            step[order[k]] = k + 1;
        var decisions = order.Select(i =>
        {
            var d = _decisions[i];
            var after = waits[i]?.Select(j => step[j]).Order().ToList();
            return new PlanDecision(S.VmName(d.Vm), d.Kind, d.From >= 0 ? S.NodeName(d.From) : null, d.To >= 0 ? S.NodeName(d.To) : null, step[i], d.Why, after);
        }).ToList();
        var unplaced = _unplaced.Select(u => new UnplacedVm(u.Key, u.Value)).ToList();
        return new PlanResult(decisions, unplaced, R.Report(), elapsedMs, R.TargetsByVm());

        bool Ready(int i) => waits[i] is null || waits[i].All(j => emitted[j]);

        void Emit(int i)
        {
            emitted[i] = true;
            order.Add(i);
        }
    }

    private sealed record Entry(int Vm, DecisionKind Kind, int From, int To, string Why);
}
