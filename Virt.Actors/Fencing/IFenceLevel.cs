namespace Virt.Actors.Fencing;

/// <summary>
/// One way of making sure a lost host runs nothing any more (a level of the fencing topology, as in Pacemaker):
/// <c>power</c> (a fence agent switches it off), <c>storage</c> (its storage clients are cut off), <c>watchdog</c>
/// (its own watchdog has reset it by now). The fencer tries the configured levels in order until one confirms.
/// Implementations do the I/O; what to try next is <see cref="FencingPlan"/>'s decision.
/// </summary>
public interface IFenceLevel
{
    /// <summary>The level's name in configuration and in fence records: power, storage, watchdog.</summary>
    string Name { get; }

    /// <summary>
    /// Fences <paramref name="target"/>. Never throws for a fence that did not work: the outcome says so, with the
    /// evidence a person can check (what the agent answered, what was seen). Secrets never appear in it.
    /// </summary>
    Task<FenceOutcome> Fence(FenceTarget target, CancellationToken cancellationToken);
}

/// <summary>The host to fence.</summary>
/// <param name="Host">Its node name.</param>
/// <param name="Incarnation">The cluster member's uid that was lost (0: not known, any earlier incarnation).</param>
/// <param name="MembershipEnded">When the others stopped counting it as a member (downed, or found gone).</param>
/// <param name="Watchdog">What the host last said of its watchdog: armed with this timeout, or null (none armed).</param>
public sealed record FenceTarget(string Host, long Incarnation, DateTimeOffset MembershipEnded, TimeSpan? Watchdog);

/// <summary>What one level did.</summary>
/// <param name="Confirmed">The host is known to run nothing any more.</param>
/// <param name="Evidence">What was seen, for the fence record (confirmed) or the waiting VMs' reason (not).</param>
/// <param name="RetryAfter">Not confirmed yet but will be by waiting (the watchdog's time has not passed): ask again then.</param>
public sealed record FenceOutcome(bool Confirmed, string Evidence, TimeSpan? RetryAfter = null)
{
    public static FenceOutcome Done(string evidence) => new(true, evidence);

    public static FenceOutcome NotDone(string why, TimeSpan? retryAfter = null) => new(false, why, retryAfter);
}
