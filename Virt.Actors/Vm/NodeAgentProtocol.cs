using Virt.Actors.Persistence;

namespace Virt.Actors.Vm;

/// <summary>
/// What a VM asks of the node agent that owns a host's libvirt connection, and what it hears back. Every request
/// carries a fencing token: the VM's op number (a late answer to an old request is recognised, and an agent refuses
/// a request older than one it has seen for that VM) and the incarnation of the host it is addressed to (an agent
/// refuses work meant for an earlier incarnation of itself: a host that restarted is not the host the request was
/// meant for). Answers and events implement <see cref="IVmMessage"/>: they reach the VM's entity wherever it lives.
/// </summary>
public abstract record DomainRequest(string Name, long Op, long Incarnation) : IVirtSerializable;

/// <summary>Define the domain from the spec (idempotent) and start it unless it already runs.</summary>
public sealed record StartDomain(VmSpec Spec, long Op, long Incarnation) : DomainRequest(Spec.Name, Op, Incarnation);

/// <summary>Shut the domain down (graceful) or destroy it (force). Succeeds at once when it is not running.</summary>
public sealed record StopDomain(string Name, bool Force, long Op, long Incarnation) : DomainRequest(Name, Op, Incarnation);

/// <summary>Remove the definition (destroying the domain first if it runs). Succeeds when there is none.</summary>
public sealed record UndefineDomain(string Name, long Op, long Incarnation) : DomainRequest(Name, Op, Incarnation);

/// <summary>
/// Watch the guest of the run started by <paramref name="Op"/> for its spec's readiness check (virtio-signal,
/// guest-agent or tcp). No answer but <see cref="GuestReadySeen"/>, once the check passes; the watch ends when the
/// domain stops or a newer run is watched. Asking again for the same run changes nothing.
/// </summary>
public sealed record WatchReadiness(VmSpec Spec, long Op, long Incarnation) : DomainRequest(Spec.Name, Op, Incarnation);

/// <summary>Report what libvirt knows of the domain.</summary>
public sealed record ObserveDomain(string Name, long Op, long Incarnation) : DomainRequest(Name, Op, Incarnation);

public enum DomainOutcome
{
    Done,
    Failed,

    /// <summary>libvirt is unreachable; nothing was attempted.</summary>
    Unavailable,

    /// <summary>Refused for its fencing token (an older op than one seen, or meant for another incarnation of the host); nothing was attempted.</summary>
    Stale,
}

/// <param name="Node">The host that answered.</param>
/// <param name="StoppedNow">For stops: the domain is no longer running when the agent answered.</param>
/// <param name="Seen">The domain's <see cref="DomainStateChanged.Seen"/> number when the agent answered.</param>
/// <param name="HostBoot">The host's boot identity (see <see cref="VmState.HostBoot"/>).</param>
public sealed record DomainRequestDone(
    string Name, long Op, string Request, DomainOutcome Outcome, string Node, string? Error = null, bool StoppedNow = false, long Seen = 0, string? HostBoot = null)
    : IVmMessage
{
    public string Vm => Name;
}

public sealed record DomainObservation(string Name, long Op, bool Exists, bool Running, string Node, long Seen = 0, string? HostBoot = null) : IVmMessage
{
    public string Vm => Name;
}

/// <summary>A lifecycle change the agent saw from libvirt and confirmed by reading the domain's state.</summary>
/// <param name="Seen">
/// Grows each time the agent sees the domain change between running and not running. Answers reach the VM straight
/// from the agent's worker while lifecycle events take a longer road, so an event can arrive after an answer that was
/// made later (a restart's own shutdown event after the new start's answer); a VM drops an event whose number is
/// below one it already had.
/// </param>
public sealed record DomainStateChanged(string Name, bool Running, string Reason, string Node, long Seen = 0, string? HostBoot = null) : IVmMessage
{
    public string Vm => Name;
}

/// <summary>libvirt on <paramref name="Node"/> is reachable again: a VM that had asked about its domain there asks again.</summary>
public sealed record HostAvailable(string Vm, string Node) : IVmMessage;

/// <summary>The guest of the run started by <paramref name="Op"/> passed its readiness check on <paramref name="Node"/>.</summary>
/// <param name="Evidence">What showed it: "virtio-signal: ready 7f3a (acked)", "tcp 10.0.0.5:22 accepted a connection".</param>
public sealed record GuestReadySeen(string Name, long Op, string Evidence, string Node) : IVmMessage
{
    public string Vm => Name;
}
