using Virt.Actors.Persistence;

namespace Virt.Actors.Vm;

/// <summary>
/// Lifecycle phases. Migrating belongs to the migration work; Recovering is the wait before an automatic restart.
/// <code>
/// Absent   --define--> Stopped --start--> Placing --placed--> Starting --started--> Running
/// Placing  --refused-->  Stopped (operator's start) or Recovering (Virt's own restart, retried)
/// Running  --stop-->   Stopping --stopped--> Stopped     (graceful, destroyed after stop-timeout)
/// Running  --crash-->  Recovering --backoff--> Placing   (or Failed after max-restarts in restart-window)
/// Failed   --clear-failures--> Stopped (and Placing if desired running)
/// Stopped/Failed --delete--> Deleted
/// </code>
/// </summary>
public enum VmPhase
{
    Absent,
    Stopped,
    Placing,
    Starting,
    Running,
    Stopping,
    Migrating,
    Recovering,
    Failed,
    Deleted,
}

public enum PowerState
{
    Stopped,
    Running,
}

public enum StopMode
{
    Graceful,
    Force,
}

/// <summary>What a stop leads to.</summary>
public enum AfterStop
{
    Nothing,
    Start,
    Delete,
}

/// <summary>A VM's whole state: the fold of its events. <see cref="Op"/> numbers the side effects so late answers to old ones are ignored.</summary>
public sealed record VmState : IVirtSerializable
{
    public static VmState Absent { get; } = new();

    public VmPhase Phase { get; init; } = VmPhase.Absent;

    public VmSpec? Spec { get; init; }

    /// <summary>
    /// A change of the machine (vCPUs, memory, disks, NICs) made while the VM was on its way to a host or on one: it
    /// becomes <see cref="Spec"/> the next time the VM starts (or stops), so what the balancer counts on a host is
    /// always what the domain there was made from.
    /// </summary>
    public VmSpec? PendingSpec { get; init; }

    public PowerState Desired { get; init; } = PowerState.Stopped;

    /// <summary>The host it runs on (or is starting or stopping on).</summary>
    public string? Node { get; init; }

    /// <summary>The host it was last on: where a stopped VM is looked for when virt-node starts.</summary>
    public string? LastNode { get; init; }

    /// <summary>
    /// The host that was lost while the VM was on it. Until that host is fenced the VM may still run there, so
    /// nothing starts it anywhere else.
    /// </summary>
    public string? AwaitingFence { get; init; }

    /// <summary>The incarnation of <see cref="AwaitingFence"/> that was lost (0: not known): a fence of another incarnation does not free the VM.</summary>
    public long AwaitingIncarnation { get; init; }

    public long Op { get; init; }

    public StopMode StopMode { get; init; }

    public AfterStop Then { get; init; }

    /// <summary>While Placing: why it is to start, whether it is Virt's own start, and a host it is pinned to (see <see cref="VmEvent.PlacementRequested"/>).</summary>
    public string? Why { get; init; }

    public string? Pin { get; init; }

    public bool Automatic { get; init; }

    /// <summary>
    /// The boot identity of the host when the VM started there (the kernel's boot id, or a fresh id per connection for
    /// libvirt's test driver, whose domains end with virt-node). A different one later means the host restarted.
    /// </summary>
    public string? HostBoot { get; init; }

    /// <summary>When automatic restarts happened (those inside the restart window count).</summary>
    public IReadOnlyList<DateTimeOffset> Restarts { get; init; } = [];

    public IReadOnlyList<string> FailureReasons { get; init; } = [];

    /// <summary>The Idempotency-Keys of the latest accepted commands (at most <see cref="KeptRequests"/>), to recognise retries.</summary>
    public IReadOnlyList<RequestStamp> Requests { get; init; } = [];

    public const int KeptRequests = 64;

    /// <summary>While Recovering: how long until the next start attempt.</summary>
    public TimeSpan RetryDelay { get; init; }

    public DateTimeOffset Since { get; init; }

    public string? LastError { get; init; }

    /// <summary>
    /// Since when the guest of this run is ready (its spec's readiness check passed; for kind none, since it runs); null
    /// while it is not, and whenever it is off its host. What a start order waits on is <see cref="IsReady"/>.
    /// </summary>
    public DateTimeOffset? ReadySince { get; init; }

    /// <summary>What showed it ready ("virtio-signal: ready 7f3a", "tcp 10.0.0.5:22 accepted").</summary>
    public string? ReadyEvidence { get; init; }

    /// <summary>The run passed its ready timeout without being ready (reported once; a late ready still counts).</summary>
    public bool ReadyOverdue { get; init; }

    /// <summary>Running, and ready by its spec's readiness check.</summary>
    public bool IsReady => Phase == VmPhase.Running && ReadySince is not null;

    /// <summary>Running and still waiting for its guest's ready signal.</summary>
    public bool AwaitingReady => Phase == VmPhase.Running && ReadySince is null && Spec is { } spec && spec.ReadyCheck.Kind != ReadinessKind.None;

    public bool Exists => Phase is not (VmPhase.Absent or VmPhase.Deleted);

    /// <summary>Holds capacity on <see cref="Node"/>.</summary>
    public bool OnHost => Phase is VmPhase.Starting or VmPhase.Running or VmPhase.Stopping or VmPhase.Migrating && Node is not null;
}
