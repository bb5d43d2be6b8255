namespace Virt.Scheduler.Engine;

/// <summary>
/// The hard constraints, in the one function that both decides and explains: a node is possible for a unit (a VM,
/// or VMs placed together) exactly when <see cref="Check"/> returns null.
/// </summary>
internal sealed class Feasibility(ClusterState s, FailoverReservation reservation)
{
    private readonly int[] _rollbackVersion = Filled(s.Vms.Length, -1);
    private readonly bool[] _rolledBack = new bool[s.Vms.Length];

    /// <summary>
    /// A running anchor moves only where its running followers by attribute can stay with it. Evacuation and repair
    /// lift this when nothing else works: the anchor moves and its followers follow (<see cref="Planner.FollowUp"/>).
    /// </summary>
    public bool HoldAnchors { get; set; } = true;

    /// <summary>First reason <paramref name="unit"/> cannot run on <paramref name="node"/>, or null when it can.</summary>
    /// <param name="ignoreReservation">Capacity only, as when an evacuation must go ahead even if N+X breaks.</param>
    public Rejection? Check(ReadOnlySpan<int> unit, int node, bool ignoreReservation = false, double[]? demand = null)
    {
        var first = unit[0];
        if (!s.Accepting[node])
        {
            var kind = s.Nodes[node].State != NodeState.Up ? RejectionKind.NodeState : s.Alive[node] ? RejectionKind.Evacuating : RejectionKind.Failed;
            return new Rejection(kind, first, node);
        }

        foreach (var vm in unit)
        {
            if (Rules(vm, node, unit) is { } rejected)
                return rejected;
        }

        demand ??= s.DemandOf(unit);
        for (var d = 0; d < s.D; d++)
        {
            var i = (node * s.D) + d;
            var free = s.Capacity[i] - s.Used[i];
            if (demand[d] > free + 1e-9)
                return new Rejection(RejectionKind.Capacity, first, node, Dim: d, Need: demand[d], Free: free);
            if (!ignoreReservation && demand[d] > free - reservation.Held(node, d) + 1e-9)
                return new Rejection(RejectionKind.Reserved, first, node, Dim: d, Need: demand[d], Free: free, Held: reservation.Held(node, d));
        }

        if (!ignoreReservation && reservation.ApartConflict(unit, node) is { } conflict)
            return conflict;

        return null;
    }

    /// <summary>The rules of one VM on one node, without capacity.</summary>
    /// <param name="unit">The VMs that go to the node with it (itself included); empty means only itself.</param>
    /// <param name="failover">Checking a failover target from <paramref name="source"/>: the unit moves together, the rest of the cluster as it is.</param>
    /// <param name="residents">Check anti-affinity with the VMs running there (preemption weighs those itself).</param>
    /// <param name="running">Checking where it runs now (repair): the failure map is about starts, so it does not apply.</param>
    /// <param name="scores">Apply negative-score-forbids.</param>
    public Rejection? Rules(int vm, int node, ReadOnlySpan<int> unit = default, bool failover = false, bool residents = true, int source = -1, bool running = false, bool scores = true)
    {
        var rules = s.Rules;
        foreach (var r in rules.VmLocation[vm])
        {
            var rule = rules.Location[r];
            if (rule.Rule.Score == Score.MinusInfinity && rule.Holds[node])
                return new Rejection(RejectionKind.LocationForbids, vm, node, Rule: r);
            if (rule.Rule.Score == Score.Infinity && !rule.Holds[node])
                return new Rejection(RejectionKind.LocationRequires, vm, node, Rule: r);
        }

        foreach (var r in rules.VmApart[vm])
        {
            if (Apart(vm, node, r, unit, residents) is { } apart)
                return apart;
        }

        foreach (var f in rules.VmFollows[vm])
        {
            var follow = rules.Follows[f];
            if (follow.Score != Score.Infinity)
                continue;
            var zone = follow.Zones.Of[node];
            if (Contains(unit, follow.Anchor))
            {
                if (zone < 0)
                    return new Rejection(RejectionKind.FollowElsewhere, vm, node, Rule: f, Other: follow.Anchor);
                continue;
            }

            if (failover)
            {
                // On one node the anchor must move with it (a bond); by attribute the zone bound below keeps it with
                // the anchor, if the anchor is restarted at all.
                if (follow.NodeLevel || !s.Vms[follow.Anchor].Ha || s.Location[follow.Anchor] is not (var anchorAt and >= 0) || !s.Alive[anchorAt])
                    return new Rejection(RejectionKind.FollowFailover, vm, node, Rule: f, Other: follow.Anchor);
                if (zone < 0 || follow.Zones.Of[anchorAt] != zone)
                    return new Rejection(RejectionKind.FollowElsewhere, vm, node, Rule: f, Other: follow.Anchor);
                continue;
            }

            var at = s.Location[follow.Anchor];
            if (at < 0 || !s.Alive[at])
                return new Rejection(RejectionKind.FollowNotRunning, vm, node, Rule: f, Other: follow.Anchor);
            if (zone < 0 || follow.Zones.Of[at] != zone)
                return new Rejection(RejectionKind.FollowElsewhere, vm, node, Rule: f, Other: follow.Anchor);
        }

        if (HoldAnchors && !failover && s.Location[vm] >= 0 && s.Location[vm] != node)
        {
            // A running anchor moves only where its running followers by attribute can stay with it.
            foreach (var f in rules.AnchorOf[vm])
            {
                var follow = rules.Follows[f];
                if (follow.Score != Score.Infinity || follow.NodeLevel || Contains(unit, follow.Dependent))
                    continue;
                var at = s.Location[follow.Dependent];
                if (at >= 0 && s.Alive[at] && follow.Zones.Of[at] >= 0 && follow.Zones.Of[node] != follow.Zones.Of[at])
                    return new Rejection(RejectionKind.AnchorHeld, vm, node, Rule: f, Other: follow.Dependent);
            }
        }

        foreach (var r in rules.VmSame[vm])
        {
            // In failover too: the others stay (or fail over within their zone), so it must land in their zone.
            var same = rules.Same[r];
            var zone = same.Zones.Of[node];
            foreach (var member in same.Members)
            {
                var at = s.Location[member];
                if (member != vm && at >= 0 && s.Alive[at] && !Contains(unit, member) && (zone < 0 || same.Zones.Of[at] != zone))
                    return new Rejection(RejectionKind.SameZone, vm, node, Rule: r, Other: member);
            }
        }

        if (!failover)
        {
            if (rules.Group[vm] is var g and >= 0)
            {
                foreach (var member in rules.Groups[g])
                {
                    var at = s.Location[member];
                    if (member != vm && at >= 0 && s.Alive[at] && at != node && !Contains(unit, member))
                        return new Rejection(RejectionKind.Together, vm, node, Other: member);
                }
            }
        }
        else if (source >= 0)
        {
            var bounds = rules.ZoneBound[vm];
            for (var b = 0; b < bounds.Length; b++)
            {
                var from = bounds[b].Of[source];
                if (from < 0 || bounds[b].Of[node] != from)
                    return new Rejection(RejectionKind.ZoneFailover, vm, node, Rule: b, Other: source);
            }
        }

        if (!running && AvoidedBecauseOfFailures(vm, node))
            return new Rejection(RejectionKind.Failures, vm, node);

        if (scores && s.Policy.NegativeScoreForbids && rules.HasNegative[vm])
        {
            var location = rules.LocationScore(vm, node);
            if (location < 0 || (location + rules.ColocationScore(vm, node) + PeerScore(vm, node, unit) < 0 && !ColocationRolledBack(vm, unit)))
                return new Rejection(RejectionKind.NegativeScore, vm, node);
        }

        return null;
    }

    /// <summary>At most the set's limit of its members in the node's zone, counting the unit that arrives.</summary>
    private Rejection? Apart(int vm, int node, int r, ReadOnlySpan<int> unit, bool residents)
    {
        var set = s.Rules.Apart[r];
        var zone = set.Zones.Of[node];
        if (zone < 0)
            return null;
        var arriving = 0;
        var alreadyThere = 0;
        var peer = -1;
        Span<int> self = [vm];
        foreach (var member in unit.IsEmpty ? self : unit)
        {
            if (Array.IndexOf(set.Members, member) < 0)
                continue;
            arriving++;
            if (member != vm)
                peer = member;
            if (s.Location[member] is var at and >= 0 && set.Zones.Of[at] == zone)
                alreadyThere++;
        }

        if (arriving > set.Limit)
            return new Rejection(RejectionKind.ApartWithinUnit, vm, node, Rule: r, Other: peer);
        if (residents && s.Rules.ApartCount[r][zone] - alreadyThere + arriving > set.Limit)
        {
            var other = -1;
            foreach (var m in set.Members)
            {
                if (m != vm && !Contains(unit, m) && s.Location[m] is var at and >= 0 && set.Zones.Of[at] == zone)
                {
                    other = m;
                    break;
                }
            }

            return new Rejection(RejectionKind.Apart, vm, node, Rule: r, Other: other);
        }

        return null;
    }

    /// <summary>Finite colocation scores toward the rest of <paramref name="unit"/>, which arrives on the same node with it.</summary>
    private double PeerScore(int vm, int node, ReadOnlySpan<int> unit)
    {
        if (unit.Length < 2)
            return 0;
        double score = 0;
        foreach (var r in s.Rules.VmSoft[vm])
        {
            var set = s.Rules.Soft[r];
            var zone = set.Zones.Of[node];
            if (zone < 0)
                continue;
            foreach (var peer in unit)
            {
                if (peer != vm && Array.IndexOf(set.Members, peer) >= 0 && (s.Location[peer] is not (var at and >= 0) || set.Zones.Of[at] != zone))
                    score += set.Score;
            }
        }

        foreach (var f in s.Rules.VmFollows[vm])
        {
            var follow = s.Rules.Follows[f];
            if (double.IsFinite(follow.Score) && unit.Contains(follow.Anchor) && follow.Zones.Of[node] >= 0 && s.Location[follow.Anchor] < 0)
                score += follow.Score;
        }

        return score;
    }

    /// <summary>
    /// Pacemaker rolls back finite colocation scores that would leave a VM no node at all: when every node its hard
    /// rules allow has a negative total, only the location part of the total forbids.
    /// </summary>
    /// <param name="unit">The VMs placed with it: nodes are judged for the whole unit going there (not cached then).</param>
    private bool ColocationRolledBack(int vm, ReadOnlySpan<int> unit)
    {
        var alone = unit.Length < 2;
        if (alone && _rollbackVersion[vm] == s.Version)
            return _rolledBack[vm];
        var rolledBack = true;
        for (var n = 0; n < s.Nodes.Length && rolledBack; n++)
        {
            if (s.Accepting[n] && s.Rules.LocationScore(vm, n) >= 0 && s.Rules.Preference(vm, n) + PeerScore(vm, n, unit) >= 0 && Rules(vm, n, unit, scores: false) is null)
                rolledBack = false;
        }

        if (alone)
        {
            _rollbackVersion[vm] = s.Version;
            _rolledBack[vm] = rolledBack;
        }

        return rolledBack;
    }

    private bool AvoidedBecauseOfFailures(int vm, int node)
    {
        var failures = s.Vms[vm].Failures;
        return failures is not null
               && failures.TryGetValue(s.NodeName(node), out var h)
               && h.Count >= s.MigrationThreshold(vm)
               && h.LastSecondsAgo < s.FailureTimeout(vm);
    }

    private static bool Contains(ReadOnlySpan<int> unit, int vm) => unit.Contains(vm);

    private static int[] Filled(int length, int value)
    {
        var a = new int[length];
        Array.Fill(a, value);
        return a;
    }
}
