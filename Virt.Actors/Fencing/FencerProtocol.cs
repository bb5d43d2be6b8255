using Virt.Actors.Persistence;

namespace Virt.Actors.Fencing;

/// <summary>Messages to the fencer singleton, and its answers.</summary>
public static class FencerProtocol
{
    /// <summary>A node agent's word about its host, every report interval: which incarnation it is, and its watchdog (armed with this timeout, or null).</summary>
    public sealed record HostSeen(string Host, long Incarnation, TimeSpan? Watchdog) : IVirtSerializable;

    /// <summary>
    /// The balancer's question for a host some VM waits for: make sure it is fenced (a fence is asked for if none is),
    /// and say how it stands. <paramref name="Incarnation"/> 0: the incarnation the host last reported.
    /// Answer: <see cref="FenceStatus"/>.
    /// </summary>
    public sealed record EnsureFenced(string Host, long Incarnation, string Why) : IVirtSerializable;

    /// <param name="Text">Confirmed: the evidence; else why not yet.</param>
    public sealed record FenceStatus(string Host, long Incarnation, bool Confirmed, string Text) : IVirtSerializable;

    /// <summary>Answer: <see cref="Fences"/>, every record, newest first.</summary>
    public sealed record GetFences : IVirtSerializable;

    /// <param name="Hosts">Each host's latest incarnation and watchdog, as it last said (what the watchdog level counts on).</param>
    public sealed record Fences(IReadOnlyList<FenceRecord> Records, IReadOnlyList<HostSeen> Hosts) : IVirtSerializable;

    /// <summary>The operator's <c>virt node fence NAME</c>: a member is downed first (then fenced like any lost host); a host that is gone is fenced now. Answer: <see cref="Answer"/>.</summary>
    public sealed record FenceNow(string Host) : IVirtSerializable;

    /// <summary>The operator vouches that <paramref name="Host"/> is off (<c>virt node confirm-fenced</c>). Refused while it is a member. Answer: <see cref="Answer"/>.</summary>
    public sealed record ConfirmFenced(string Host) : IVirtSerializable;

    /// <param name="Conflict">Refused because of the host's state (it is a member), not because of the request.</param>
    public sealed record Answer(bool Ok, string Message, bool Conflict = false) : IVirtSerializable;
}
