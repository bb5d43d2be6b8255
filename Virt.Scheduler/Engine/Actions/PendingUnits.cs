namespace Virt.Scheduler.Engine.Actions;

/// <summary>Pending VMs grouped into units: an INFINITY colocation group's pending members go together.</summary>
internal static class PendingUnits
{
    public static List<int[]> Of(ClusterState s, IEnumerable<int> pending) =>
        pending
            .GroupBy(v => s.Rules.Group[v] >= 0 ? s.Rules.Group[v] : -1 - v)
            .Select(g => g.Order().ToArray())
            .OrderByDescending(u => u.Max(v => s.Vms[v].Priority))
            .ThenBy(u => s.VmName(u[0]), StringComparer.Ordinal)
            .ToList();
}
