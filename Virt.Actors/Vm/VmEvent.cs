using System.Text.Json.Serialization;
using Virt.Actors.Persistence;

namespace Virt.Actors.Vm;

/// <summary>
/// What happened to a VM; its journal. Each carries when it was decided. The first event of a command sent with an
/// Idempotency-Key carries that key (<see cref="Request"/>), so a retry is recognised after any restart.
/// </summary>
public abstract record VmEvent(DateTimeOffset At) : IVirtSerializable
{
    public RequestStamp? Request { get; init; }

    public sealed record Defined(VmSpec Spec, DateTimeOffset At) : VmEvent(At);

    public sealed record SpecUpdated(VmSpec Spec, DateTimeOffset At) : VmEvent(At);

    /// <summary>The VM should run: the balancer is asked where.</summary>
    /// <param name="Automatic">Virt's own start (a restart), not the operator's: a refusal waits and retries instead of giving up.</param>
    /// <param name="CountsAsRestart">An automatic start that spends one of the restarts allowed in the window.</param>
    /// <param name="Pin">Only this host may take it (the operator's --node).</param>
    public sealed record PlacementRequested(long Op, string Why, bool Automatic, bool CountsAsRestart, DateTimeOffset At, string? Pin = null) : VmEvent(At);

    /// <summary>No host can take it (the balancer's reasons, per host).</summary>
    public sealed record PlacementFailed(long Op, string Reason, DateTimeOffset At) : VmEvent(At);

    /// <param name="CountsAsRestart">An automatic start that spends one of the restarts allowed in the window.</param>
    public sealed record StartRequested(long Op, string Node, string Why, bool CountsAsRestart, DateTimeOffset At) : VmEvent(At);

    /// <param name="HostBoot">The boot identity of the host it started on.</param>
    public sealed record Started(long Op, DateTimeOffset At, string? HostBoot = null) : VmEvent(At);

    /// <summary>Found running on <paramref name="Node"/> when Virt did not expect it to run there yet: taken as running.</summary>
    public sealed record Adopted(string Node, string Why, DateTimeOffset At, string? HostBoot = null) : VmEvent(At);

    /// <summary>The guest of run <paramref name="Op"/> passed its readiness check; <paramref name="Evidence"/> says how.</summary>
    public sealed record Ready(long Op, string Evidence, DateTimeOffset At) : VmEvent(At);

    /// <summary>Run <paramref name="Op"/> was not ready within its ready timeout: reported, the VM keeps running.</summary>
    public sealed record ReadyOverdue(long Op, string Reason, DateTimeOffset At) : VmEvent(At);

    public sealed record StartFailed(long Op, string Reason, DateTimeOffset At) : VmEvent(At);

    public sealed record StopRequested(long Op, StopMode Mode, AfterStop Then, string Why, DateTimeOffset At) : VmEvent(At);

    /// <summary>The graceful shutdown took too long: destroying.</summary>
    public sealed record StopEscalated(long Op, DateTimeOffset At) : VmEvent(At);

    public sealed record Stopped(DateTimeOffset At) : VmEvent(At);

    public sealed record StoppedUnexpectedly(string Reason, DateTimeOffset At) : VmEvent(At);

    /// <param name="Delay">Stored as whole milliseconds, <c>delayMs</c> (manifest v2; v1 stored a .NET time span text).</param>
    /// <param name="Reason">Why a restart is needed, kept with the VM's failure reasons.</param>
    public sealed record RestartScheduled(
        long Op,
        int Attempt,
        [property: JsonPropertyName("delayMs"), JsonConverter(typeof(MillisecondsConverter))] TimeSpan Delay,
        string Reason,
        DateTimeOffset At) : VmEvent(At);

    public sealed record Failed(IReadOnlyList<string> Reasons, DateTimeOffset At) : VmEvent(At);

    public sealed record FailuresCleared(DateTimeOffset At) : VmEvent(At);

    public sealed record DesiredChanged(PowerState Desired, string Why, DateTimeOffset At) : VmEvent(At);

    public sealed record Deleted(DateTimeOffset At) : VmEvent(At);

    /// <summary>Its host left the cluster while the VM was on it: it waits there, in recovering, until that host is fenced.</summary>
    /// <param name="Reason">"host hv-03 lost; waiting for fence".</param>
    /// <param name="Incarnation">The lost member's uid (0: not known); only a fence of that incarnation (or of the host as a whole) frees the VM.</param>
    public sealed record HostLost(string Node, string Reason, DateTimeOffset At, long Incarnation = 0) : VmEvent(At);

    /// <summary>
    /// The host it was lost on runs nothing of it any more: fenced (the fencer's level and evidence, or the operator's
    /// word), or back as a new incarnation whose libvirt does not run it. The VM is free to start elsewhere.
    /// </summary>
    public sealed record HostFenced(string Node, string Evidence, DateTimeOffset At) : VmEvent(At);

    /// <summary>Why its host's fence is not confirmed yet ("waiting for fence of hv-03: power: status still on").</summary>
    public sealed record FencePending(string Node, string Reason, DateTimeOffset At) : VmEvent(At);
}
