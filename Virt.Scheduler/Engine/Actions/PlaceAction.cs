namespace Virt.Scheduler.Engine.Actions;

/// <summary>Starts pending VMs, highest priority first; with preempt, a VM may displace lower-priority ones.</summary>
internal static class PlaceAction
{
    public static void Run(Planner p) =>
        StartAll(p, Enumerable.Range(0, p.S.Vms.Length).Where(v => p.S.Location[v] < 0), DecisionKind.Start, _ => -1, _ => "");

    /// <summary>Shared by place and fail: each unit goes to the best node, is preempted in, or is explained.</summary>
    public static void StartAll(Planner p, IEnumerable<int> pending, DecisionKind kind, Func<int, int> from, Func<int, string> context)
    {
        foreach (var unit in PendingUnits.Of(p.S, pending))
        {
            var node = p.Choose(unit, out var possible);
            if (node >= 0)
            {
                p.Place(unit, node);
                foreach (var vm in unit)
                    p.Record(vm, kind, from(vm), node, context(vm) + p.WhyChosen(unit, node, possible));
                continue;
            }

            if (p.S.Policy.Preempt && unit.Length == 1 && p.TryPreempt(unit[0], kind, from(unit[0]), context(unit[0])))
                continue;

            var reasons = p.Explain(unit);
            foreach (var vm in unit)
                p.Unplaced(vm, reasons);
        }
    }
}
