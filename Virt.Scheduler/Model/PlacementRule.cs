namespace Virt.Scheduler;

/// <summary>A named constraint, preference or ordering over a set of VMs.</summary>
public abstract record PlacementRule(string Name, IReadOnlyList<string> Vms);

/// <summary>
/// Where <see cref="Expression"/> holds: <c>-INFINITY</c> forbids the node, <c>INFINITY</c> requires such a node,
/// a number adds that much preference.
/// </summary>
public sealed record LocationRule(string Name, IReadOnlyList<string> Vms, double Score, NodeExpression Expression)
    : PlacementRule(Name, Vms);

/// <summary>
/// Symmetric (no <see cref="With"/>): <c>-INFINITY</c> no two of the VMs together (at most <see cref="AtMost"/>);
/// <c>INFINITY</c> all together, or none placed; a number: preference per neighbour.
/// Directed (<see cref="With"/> names an anchor VM): each of <see cref="PlacementRule.Vms"/> follows the anchor
/// (<c>INFINITY</c>: only with it, and not at all while it does not run), avoids it (<c>-INFINITY</c>), or prefers
/// it by the score; the anchor runs whatever happens to them.
/// "Together" means on one node, or with <see cref="NodeAttribute"/> on nodes with the same value of it (same rack);
/// a node without the attribute is with nobody.
/// </summary>
/// <param name="AtMost">Spread limit of a symmetric <c>-INFINITY</c> rule: at most this many of the VMs per node (or per attribute value); 1 when absent.</param>
public sealed record ColocationRule(string Name, IReadOnlyList<string> Vms, double Score, string? With = null, string? NodeAttribute = null, int? AtMost = null)
    : PlacementRule(Name, Vms);

/// <summary>
/// Start order: the VMs (or start-order groups) in <see cref="PlacementRule.Vms"/> start after those in
/// <see cref="StartAfter"/>. Mandatory: not at all unless every one of those runs or starts first. Optional: only
/// orders the starts when both are in one plan.
/// </summary>
public sealed record OrderRule(string Name, IReadOnlyList<string> Vms, IReadOnlyList<string> StartAfter, bool Mandatory = true)
    : PlacementRule(Name, Vms);
