namespace Virt.Scheduler;

/// <summary>What to plan. A closed set: <see cref="Kind"/> names it in scenario files.</summary>
public abstract record PlanAction(string Kind)
{
    /// <summary>Start pending VMs.</summary>
    public sealed record Place() : PlanAction("place");

    /// <summary>Live-migrate everything off the nodes.</summary>
    public sealed record Evacuate(IReadOnlyList<string> Nodes) : PlanAction("evacuate");

    /// <summary>The nodes died: restart their HA VMs elsewhere, by priority.</summary>
    public sealed record Fail(IReadOnlyList<string> Nodes) : PlanAction("fail");

    /// <summary>Migrations that even out (or, with pack, consolidate) the load, within the policy's limits.</summary>
    public sealed record Rebalance() : PlanAction("rebalance");

    /// <summary>VMs whose home node is up and has room go home.</summary>
    public sealed record Failback() : PlanAction("failback");
}
