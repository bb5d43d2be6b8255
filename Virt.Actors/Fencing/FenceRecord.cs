namespace Virt.Actors.Fencing;

/// <summary>
/// The fence of one incarnation of a host: why it was asked for, and, once a level confirmed it (or the operator
/// vouched), how. A record is never confirmed twice; a host that comes back and is lost again gets a new record
/// (its new incarnation).
/// </summary>
/// <param name="Incarnation">The lost member's uid; 0 when the host never said which incarnation it was.</param>
/// <param name="MembershipEnded">When the cluster stopped counting it as a member: the watchdog level counts from here.</param>
public sealed record FenceRecord(string Host, long Incarnation, DateTimeOffset MembershipEnded, string Why, DateTimeOffset RequestedAt)
{
    public FenceConfirmation? Confirmed { get; init; }

    /// <summary>Rounds of levels tried so far (not stored: a new fencer starts counting again).</summary>
    public int Rounds { get; init; }

    /// <summary>Why the last round did not confirm it, per level.</summary>
    public string? LastFailure { get; init; }

    public DateTimeOffset? LastAttempt { get; init; }
}

/// <param name="Level">power, storage, watchdog, or operator (virt node confirm-fenced).</param>
/// <param name="Evidence">What was seen: the agent's answers, the watchdog's time.</param>
public sealed record FenceConfirmation(string Level, string Evidence, DateTimeOffset At);
