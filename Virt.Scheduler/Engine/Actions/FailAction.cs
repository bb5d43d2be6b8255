namespace Virt.Scheduler.Engine.Actions;

/// <summary>
/// The named nodes died: their HA VMs restart elsewhere by priority, each on its reserved failover target when that
/// still works, else on the best node; VMs that are not HA are reported lost. Order rules and directed colocations
/// are honoured as in <see cref="PlaceAction.StartAll"/>.
/// </summary>
internal static class FailAction
{
    private const string OnTarget = "on its reserved failover target";

    public static void Run(Planner p, IReadOnlyList<string> nodes)
    {
        var s = p.S;
        var failed = nodes.Select(n => s.NodeIndex[n]).Distinct().ToArray();
        var lost = failed.SelectMany(n => s.Residents[n]).Order().ToArray();
        var origin = lost.ToDictionary(v => v, v => s.Location[v]);
        foreach (var n in failed)
            s.Close(n, dead: true);

        var reserved = lost.ToDictionary(v => v, v => p.R.TargetsOf(v));
        foreach (var vm in lost)
            p.Remove(vm);
        foreach (var n in failed)
            p.R.RetargetAwayFrom(n);

        foreach (var vm in lost.Where(v => !s.Vms[v].Ha))
            p.Unplaced(vm, new Dictionary<string, string> { [s.NodeName(origin[vm])] = "failed; the VM is not HA, so it is not restarted" });

        string Context(int vm) => $"{s.NodeName(origin[vm])} failed; priority {s.Vms[vm].Priority}; ";
        (int Node, string Why)? Target(int[] unit) =>
            reserved[unit[0]]?.FirstOrDefault(t => s.Accepting[t], -1) is { } t and >= 0 ? (t, OnTarget) : null;

        // First choice: the failover target the reservation held room on (predictable, and O(1) per VM), for every
        // unit that waits for nothing still pending; the rest go through the ordered placement.
        var ha = lost.Where(v => s.Vms[v].Ha).ToHashSet();
        var rest = new List<int>();
        foreach (var unit in PendingUnits.Of(s, ha))
        {
            var waits = unit.SelectMany(vm => p.Prerequisites(vm)).Any(q => ha.Contains(q) && !unit.Contains(q) && s.Location[q] < 0);
            if (!waits && Target(unit) is { } target && p.OrderBlock(unit) is null && p.F.Check(unit, target.Node) is null && p.R.CanReserve(unit, target.Node))
            {
                p.Place(unit, target.Node);
                foreach (var vm in unit)
                    p.Record(vm, DecisionKind.Restart, origin[vm], target.Node, Context(vm) + OnTarget);
            }
            else
            {
                rest.AddRange(unit);
            }
        }

        PlaceAction.StartAll(p, rest, DecisionKind.Restart, vm => origin[vm], Context, Target);
        p.FollowUp(lost); // followers elsewhere of what restarted in another zone, or did not restart at all
    }
}
