namespace Virt.Scheduler.Engine.Actions;

/// <summary>
/// Live-migrates everything off the named nodes, highest priority first, each step fitting given the steps before.
/// A move that keeps the N+X reservation is preferred; if none exists the VM still moves (draining is the operator's
/// call) and the reservation report says what broke. A VM that fits nowhere may preempt lower-priority VMs when the
/// policy allows; otherwise it keeps running with its reasons, or with unplaceable stop, is stopped (the lowest
/// priorities are the last to be offered a place, so they are the ones stopped).
/// </summary>
internal static class EvacuateAction
{
    public static void Run(Planner p, IReadOnlyList<string> nodes, Unplaceable unplaceable)
    {
        var s = p.S;
        var drained = nodes.Select(n => s.NodeIndex[n]).Distinct().ToArray();
        foreach (var n in drained)
            s.Close(n);
        foreach (var n in drained)
            p.R.RetargetAwayFrom(n);

        var residents = drained.SelectMany(n => s.Residents[n]).ToList();
        foreach (var planned in AnchorsFirst(p, p.R.Units(residents)))
        {
            // A follow-up of an earlier unit may have moved or stopped some of these already.
            var from = s.Location[planned[0]];
            var unit = planned.Where(vm => s.Location[vm] == from).ToArray();
            if (from < 0 || !drained.Contains(from))
                continue;
            if (!s.Alive[from])
            {
                foreach (var vm in unit)
                    p.Unplaced(vm, new Dictionary<string, string> { [s.NodeName(from)] = $"not running: {s.NodeName(from)} is {s.Nodes[from].State.ToString().ToLowerInvariant()}; use the fail action to restart it" });
                continue;
            }

            var context = $"evacuating {s.NodeName(from)}; ";
            var to = p.ChooseMove(unit, out var kept);
            var note = kept ? "" : $"; no move kept the N+{s.ReserveFailures} failover map, so failover targets were planned again (see the reservation)";

            if (to >= 0)
            {
                p.Move(unit, to);
                foreach (var vm in unit)
                {
                    p.Placed(vm); // a follow-up may have explained it before its own turn came
                    p.Record(vm, DecisionKind.Migrate, from, to, $"{context}{p.WhyChosen(unit, to, vm: vm)}{note}");
                }

                p.FollowUp(unit, unplaceable);
                continue;
            }

            if (s.Policy.Preempt && unit.Length == 1 && p.TryPreempt(unit[0], DecisionKind.Migrate, from, context))
                continue;

            var reasons = p.Explain(unit);
            foreach (var vm in unit)
                p.Unplaced(vm, reasons);
            if (unplaceable != Unplaceable.Stop)
                continue;
            foreach (var vm in unit)
            {
                p.Remove(vm);
                p.Record(vm, DecisionKind.Stop, from, -1, $"{context}can move nowhere (unplaceable stop); priority {s.Vms[vm].Priority}");
            }

            p.FollowUp(unit, unplaceable);
        }
    }

    /// <summary>Priority order, except that a unit moves after the units it follows (so it chooses knowing where they went).</summary>
    private static List<int[]> AnchorsFirst(Planner p, List<int[]> units)
    {
        var unitOf = new Dictionary<int, int>();
        for (var i = 0; i < units.Count; i++)
        {
            foreach (var vm in units[i])
                unitOf[vm] = i;
        }

        var order = new List<int[]>(units.Count);
        var visited = new bool[units.Count];
        for (var i = 0; i < units.Count; i++)
            Visit(i);
        return order;

        void Visit(int i)
        {
            if (visited[i])
                return;
            visited[i] = true;
            foreach (var vm in units[i])
            {
                foreach (var anchor in p.Prerequisites(vm, orders: false))
                {
                    if (unitOf.TryGetValue(anchor, out var j))
                        Visit(j);
                }
            }

            order.Add(units[i]);
        }
    }
}
