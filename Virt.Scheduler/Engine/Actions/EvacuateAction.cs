namespace Virt.Scheduler.Engine.Actions;

/// <summary>
/// Live-migrates everything off the named nodes, highest priority first, each step fitting given the steps before.
/// A move that keeps the N+X reservation is preferred; if none exists the VM still moves (draining is the operator's
/// call) and the reservation report says what broke. VMs that fit nowhere stay, each with its reasons.
/// </summary>
internal static class EvacuateAction
{
    public static void Run(Planner p, IReadOnlyList<string> nodes)
    {
        var s = p.S;
        var drained = nodes.Select(n => s.NodeIndex[n]).Distinct().ToArray();
        foreach (var n in drained)
            s.Accepting[n] = false;
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

            var to = p.Choose(unit);
            var note = "";
            if (to < 0)
            {
                to = p.Choose(unit, requireReservation: false);
                note = $"; no move kept the N+{s.ReserveFailures} failover map, so failover targets were planned again (see the reservation)";
            }

            if (to < 0)
            {
                var reasons = p.Explain(unit);
                foreach (var vm in unit)
                    p.Unplaced(vm, reasons);
                continue;
            }

            p.Move(unit, to);
            foreach (var vm in unit)
                p.Record(vm, DecisionKind.Migrate, from, to, $"evacuating {s.NodeName(from)}; {p.WhyChosen(unit, to)}{note}");
        }
    }
}
