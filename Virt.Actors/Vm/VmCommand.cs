using System.Text.Json.Serialization;

namespace Virt.Actors.Vm;

/// <summary>
/// Everything a VM decides on: operator commands, what the balancer and the node agent said, and its own timeouts.
/// Commands travel between nodes inside <see cref="VmProtocol.Command"/>, named by the <c>kind</c> field.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(Define), "define")]
[JsonDerivedType(typeof(UpdateSpec), "update-spec")]
[JsonDerivedType(typeof(Start), "start")]
[JsonDerivedType(typeof(Stop), "stop")]
[JsonDerivedType(typeof(Restart), "restart")]
[JsonDerivedType(typeof(Delete), "delete")]
[JsonDerivedType(typeof(ClearFailures), "clear-failures")]
[JsonDerivedType(typeof(Placed), "placed")]
[JsonDerivedType(typeof(PlacementRefused), "placement-refused")]
[JsonDerivedType(typeof(HostLost), "host-lost")]
[JsonDerivedType(typeof(HostFenced), "host-fenced")]
[JsonDerivedType(typeof(FenceWaiting), "fence-waiting")]
[JsonDerivedType(typeof(GuestReady), "guest-ready")]
public abstract record VmCommand
{
    // Operator commands
    public sealed record Define(VmSpec Spec) : VmCommand;

    /// <param name="IfVersion">Refused unless the spec's <see cref="VmSpec.Version"/> (its pending one, if any) is this; null: whatever it is.</param>
    public sealed record UpdateSpec(VmSpec Spec, string? IfVersion = null) : VmCommand;

    /// <param name="Pin">Start on this host only (still checked by the balancer); null: the balancer chooses.</param>
    public sealed record Start(string? Pin = null) : VmCommand;

    public sealed record Stop(bool Force = false) : VmCommand;

    public sealed record Restart : VmCommand;

    public sealed record Delete(bool Force = false) : VmCommand;

    public sealed record ClearFailures : VmCommand;

    // The balancer's answer to a placement request
    public sealed record Placed(long Op, string Node) : VmCommand;

    public sealed record PlacementRefused(long Op, string Reason) : VmCommand;

    /// <summary>The host the VM ran on left the cluster (downed and removed, or gone): it may still run there until fenced.</summary>
    /// <param name="Incarnation">The lost member's uid; 0: not known.</param>
    public sealed record HostLost(string Node, string How, long Incarnation = 0) : VmCommand;

    /// <summary>The fencer confirmed that <paramref name="Node"/> (incarnation <paramref name="Incarnation"/>, 0: the host as a whole) runs nothing any more.</summary>
    public sealed record HostFenced(string Node, long Incarnation, string Evidence) : VmCommand;

    /// <summary>The fence of <paramref name="Node"/> is not confirmed yet, and why.</summary>
    public sealed record FenceWaiting(string Node, string Reason) : VmCommand;

    // Observations from the node agent
    /// <param name="HostBoot">The host's boot identity when the domain started (see <see cref="VmState.HostBoot"/>).</param>
    public sealed record StartDone(long Op, string? HostBoot = null) : VmCommand;

    public sealed record StartRefused(long Op, string Reason) : VmCommand;

    public sealed record StopDone(long Op) : VmCommand;

    /// <summary>The guest of the run started by <paramref name="Op"/> passed its readiness check (the agent saw it).</summary>
    public sealed record GuestReady(long Op, string Evidence) : VmCommand;

    /// <summary>The domain stopped (the agent checked it really is stopped). Reason: shutdown, destroyed, crashed, failed...</summary>
    public sealed record DomainStopped(string Reason) : VmCommand;

    /// <summary>The domain runs on <paramref name="Node"/> (the agent checked), though Virt did not start it just now.</summary>
    public sealed record DomainRunning(string Node, string? HostBoot = null) : VmCommand;

    /// <summary>What libvirt on <paramref name="Node"/> says about the domain, asked at start-up or after libvirt came back.</summary>
    /// <param name="HostBoot">The host's boot identity now; differs from the one the VM started under when the host restarted.</param>
    public sealed record Observed(bool Exists, bool Running, string Node, string? HostBoot = null) : VmCommand;

    // State timeouts
    public sealed record StartTimedOut(long Op) : VmCommand;

    public sealed record StopTimedOut(long Op) : VmCommand;

    public sealed record ReadyTimedOut(long Op) : VmCommand;

    public sealed record RetryStart(long Op) : VmCommand;
}
