namespace Virt.Scheduler.Engine.Actions;

/// <summary>The named nodes died: their HA VMs restart elsewhere by priority; the others are reported lost.</summary>
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

        foreach (var vm in lost)
            p.Remove(vm);
        foreach (var n in failed)
            p.R.RetargetAwayFrom(n);

        foreach (var vm in lost.Where(v => !s.Vms[v].Ha))
            p.Unplaced(vm, new Dictionary<string, string> { [s.NodeName(origin[vm])] = "failed; the VM is not HA, so it is not restarted" });

        PlaceAction.StartAll(
            p,
            lost.Where(v => s.Vms[v].Ha),
            DecisionKind.Restart,
            vm => origin[vm],
            vm => $"{s.NodeName(origin[vm])} failed; priority {s.Vms[vm].Priority}; ");
    }
}
