namespace Virt.Scheduler;

/// <summary>A named constraint or preference over a set of VMs.</summary>
public abstract record PlacementRule(string Name, IReadOnlyList<string> Vms, double Score);

/// <summary>
/// Where <see cref="Expression"/> holds: <c>-INFINITY</c> forbids the node, <c>INFINITY</c> requires such a node,
/// a number adds that much preference.
/// </summary>
public sealed record LocationRule(string Name, IReadOnlyList<string> Vms, double Score, NodeExpression Expression)
    : PlacementRule(Name, Vms, Score);

/// <summary><c>-INFINITY</c>: no two of the VMs on one node. <c>INFINITY</c>: all on one node, or none placed. A number: preference per neighbour.</summary>
public sealed record ColocationRule(string Name, IReadOnlyList<string> Vms, double Score)
    : PlacementRule(Name, Vms, Score);
