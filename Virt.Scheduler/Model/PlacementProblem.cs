namespace Virt.Scheduler;

/// <summary>Everything the engine may look at: a snapshot of the cluster, the rules, the policy and the action.</summary>
/// <param name="Overcommit">Capacity multiplier per dimension (vcpu 4.0); 1 where absent.</param>
/// <param name="ReserveFailures">N+X: how many node failures the HA VMs must survive (0..2).</param>
/// <param name="Now">The moment date and time expressions are evaluated at (the engine has no clock).</param>
public sealed record PlacementProblem(
    IReadOnlyList<NodeSpec> Nodes,
    IReadOnlyList<VmSpec> Vms,
    IReadOnlyList<PlacementRule> Rules,
    PlanAction Action,
    PlacementPolicy? Policy = null,
    IReadOnlyDictionary<string, double>? Overcommit = null,
    int ReserveFailures = 0,
    DateTimeOffset? Now = null);
