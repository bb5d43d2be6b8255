namespace Virt.Scheduler;

/// <summary>What happens to a VM that has to leave its node and can go nowhere.</summary>
public enum Unplaceable
{
    /// <summary>It keeps running where it is, and the plan says why it could not move.</summary>
    Keep,

    /// <summary>It is stopped (lowest priority last to be given a place, so first to be stopped).</summary>
    Stop,
}

/// <summary>What to plan. A closed set: <see cref="Kind"/> names it in scenario files.</summary>
public abstract record PlanAction(string Kind)
{
    /// <summary>Start pending VMs.</summary>
    public sealed record Place() : PlanAction("place");

    /// <summary>Live-migrate everything off the nodes; with the policy's preempt, a VM may displace lower-priority ones.</summary>
    public sealed record Evacuate(IReadOnlyList<string> Nodes, Unplaceable Unplaceable = Unplaceable.Keep) : PlanAction("evacuate");

    /// <summary>The nodes died: restart their HA VMs elsewhere, by priority.</summary>
    public sealed record Fail(IReadOnlyList<string> Nodes) : PlanAction("fail");

    /// <summary>Migrations that even out (or, with pack, consolidate) the load, within the policy's limits.</summary>
    public sealed record Rebalance() : PlanAction("rebalance");

    /// <summary>VMs whose home node is up and has room go home.</summary>
    public sealed record Failback() : PlanAction("failback");

    /// <summary>
    /// Running VMs leave nodes where their rules no longer allow them (a rule added while they ran), then move
    /// toward preferences that beat the policy's stickiness, within the migration limits.
    /// </summary>
    public sealed record Repair(Unplaceable Unplaceable = Unplaceable.Keep) : PlanAction("repair");
}
