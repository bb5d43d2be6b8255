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
        foreach (var unit in p.R.Units(residents))
        {
            var from = s.Location[unit[0]];
            if (!s.Alive[from])
            {
                foreach (var vm in unit)
                    p.Unplaced(vm, new Dictionary<string, string> { [s.NodeName(from)] = $"not running: {s.NodeName(from)} is {s.Nodes[from].State.ToString().ToLowerInvariant()}; use the fail action to restart it" });
                continue;
            }

            var context = $"evacuating {s.NodeName(from)}; ";
            var to = p.Choose(unit);
            var note = "";
            if (to < 0)
            {
                to = p.Choose(unit, requireReservation: false);
                note = $"; no move kept the N+{s.ReserveFailures} failover map, so failover targets were planned again (see the reservation)";
            }

            if (to >= 0)
            {
                p.Move(unit, to);
                foreach (var vm in unit)
                    p.Record(vm, DecisionKind.Migrate, from, to, $"{context}{p.WhyChosen(unit, to)}{note}");
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
        }
    }
}
