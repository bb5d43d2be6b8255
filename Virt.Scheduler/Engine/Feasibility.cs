namespace Virt.Scheduler.Engine;

/// <summary>
/// The hard constraints, in the one function that both decides and explains: a node is possible for a unit (a VM,
/// or an INFINITY colocation group placed together) exactly when <see cref="Check"/> returns null.
/// </summary>
internal sealed class Feasibility(ClusterState s, FailoverReservation reservation)
{
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

        if (!ignoreReservation)
        {
            foreach (var vm in unit)
            {
                if (reservation.ApartConflict(vm, node) is { } conflict)
                    return conflict;
            }
        }

        return null;
    }

    /// <summary>The rules of one VM on one node, without capacity: location, colocation, failure map.</summary>
    /// <param name="failover">Checking a failover target: the VM's INFINITY group moves with it, so that rule is met.</param>
    /// <param name="residents">Check anti-affinity with the VMs running there (preemption weighs those itself).</param>
    public Rejection? Rules(int vm, int node, ReadOnlySpan<int> unit = default, bool failover = false, bool residents = true)
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
            if (residents && rules.MemberCount[r][node] - (s.Location[vm] == node ? 1 : 0) > 0)
            {
                var other = s.Residents[node].First(o => o != vm && rules.VmApart[o].Contains(r));
                return new Rejection(RejectionKind.Apart, vm, node, Rule: r, Other: other);
            }

            foreach (var peer in unit)
            {
                if (peer != vm && rules.VmApart[peer].Contains(r))
                    return new Rejection(RejectionKind.ApartWithinUnit, vm, node, Rule: r, Other: peer);
            }
        }

        if (!failover && rules.Group[vm] is var g and >= 0)
        {
            foreach (var member in rules.Groups[g])
            {
                var at = s.Location[member];
                if (member != vm && at >= 0 && s.Alive[at] && at != node && !unit.Contains(member))
                    return new Rejection(RejectionKind.Together, vm, node, Other: member);
            }
        }

        if (AvoidedBecauseOfFailures(vm, node))
            return new Rejection(RejectionKind.Failures, vm, node);
        return null;
    }

    private bool AvoidedBecauseOfFailures(int vm, int node)
    {
        var failures = s.Vms[vm].Failures;
        return failures is not null
               && failures.TryGetValue(s.NodeName(node), out var h)
               && h.Count >= s.Policy.MigrationThreshold
               && h.LastSecondsAgo < s.Policy.FailureTimeoutSeconds;
    }
}
