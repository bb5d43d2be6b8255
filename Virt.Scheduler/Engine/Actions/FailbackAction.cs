namespace Virt.Scheduler.Engine.Actions;

/// <summary>VMs running away from their home node go back, by priority, when home is up and has room.</summary>
internal static class FailbackAction
{
    public static void Run(Planner p)
    {
        var s = p.S;
        var candidates = Enumerable.Range(0, s.Vms.Length)
            .Where(v => s.Vms[v].Home is not null && s.Location[v] >= 0 && s.Alive[s.Location[v]] && s.Rules.Bond[v] < 0)
            .OrderByDescending(v => s.Vms[v].Priority).ThenBy(v => s.VmName(v), StringComparer.Ordinal);
        foreach (var vm in candidates)
        {
            var home = s.NodeIndex[s.Vms[vm].Home!];
            var from = s.Location[vm];
            if (home == from || p.F.Check([vm], home) is not null || !p.R.CanReserve([vm], home))
                continue;
            p.Move([vm], home);
            p.Record(vm, DecisionKind.Migrate, from, home, $"home node {s.NodeName(home)} is up with room; load {Planner.Percent(s.Load(home))} after");
        }
    }
}
