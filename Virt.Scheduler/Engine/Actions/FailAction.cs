namespace Virt.Scheduler.Engine.Actions;

/// <summary>
/// The named nodes died: their HA VMs restart elsewhere by priority, each on its reserved failover target when that
/// still works, else on the best node; VMs that are not HA are reported lost.
/// </summary>
internal static class FailAction
{
    public static void Run(Planner p, IReadOnlyList<string> nodes)
    {
        var s = p.S;
        var failed = nodes.Select(n => s.NodeIndex[n]).Distinct().ToArray();
        var lost = failed.SelectMany(n => s.Residents[n]).Order().ToArray();
        var origin = lost.ToDictionary(v => v, v => s.Location[v]);
        foreach (var n in failed)
        {
            s.Accepting[n] = false;
            s.Alive[n] = false;
        }

        var reserved = lost.ToDictionary(v => v, v => p.R.TargetsOf(v));
        foreach (var vm in lost)
            p.Remove(vm);
        foreach (var n in failed)
            p.R.RetargetAwayFrom(n);

        foreach (var vm in lost.Where(v => !s.Vms[v].Ha))
            p.Unplaced(vm, new Dictionary<string, string> { [s.NodeName(origin[vm])] = "failed; the VM is not HA, so it is not restarted" });

        // First choice: the failover target the reservation held room on (predictable, and O(1) per VM).
        var rest = new List<int>();
        foreach (var unit in PendingUnits.Of(s, lost.Where(v => s.Vms[v].Ha)))
        {
            var target = reserved[unit[0]]?.FirstOrDefault(t => s.Accepting[t], -1) ?? -1;
            if (target >= 0 && p.F.Check(unit, target) is null && p.R.CanReserve(unit, target))
            {
                p.Place(unit, target);
                foreach (var vm in unit)
                    p.Record(vm, DecisionKind.Restart, origin[vm], target, $"{s.NodeName(origin[vm])} failed; priority {s.Vms[vm].Priority}; on its reserved failover target");
            }
            else
            {
                rest.AddRange(unit);
            }
        }

        PlaceAction.StartAll(
            p,
            rest,
            DecisionKind.Restart,
            vm => origin[vm],
            vm => $"{s.NodeName(origin[vm])} failed; priority {s.Vms[vm].Priority}; ");
    }
}
