using Virt.Actors.Persistence;

namespace Virt.Actors.Fencing;

/// <summary>The fencer's journal: fences asked for and confirmed, and what each host said of its incarnation and watchdog.</summary>
public abstract record FenceEvent(DateTimeOffset At) : IVirtSerializable
{
    public sealed record Requested(string Host, long Incarnation, DateTimeOffset MembershipEnded, string Why, DateTimeOffset At) : FenceEvent(At);

    public sealed record Confirmed(string Host, long Incarnation, string Level, string Evidence, DateTimeOffset At) : FenceEvent(At);

    /// <summary>A host's incarnation and its watchdog (armed with this timeout in milliseconds, or null), stored when either changed.</summary>
    public sealed record HostSeen(string Host, long Incarnation, long? WatchdogMs, DateTimeOffset At) : FenceEvent(At);
}
