namespace Virt.Actors.Vm;

/// <summary>
/// Lifecycle phases. Placing, Migrating and Recovering belong to the cluster work; Recovering is also the wait
/// before an automatic restart.
/// <code>
/// Absent   --define--> Stopped --start--> Starting --started--> Running
/// Running  --stop-->   Stopping --stopped--> Stopped     (graceful, destroyed after stop-timeout)
/// Running  --crash-->  Recovering --backoff--> Starting   (or Failed after max-restarts in restart-window)
/// Failed   --clear-failures--> Stopped (and Starting if desired running)
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
public sealed record VmState
{
    public static VmState Absent { get; } = new();

    public VmPhase Phase { get; init; } = VmPhase.Absent;

    public VmSpec? Spec { get; init; }

    public PowerState Desired { get; init; } = PowerState.Stopped;

    public string? Node { get; init; }

    public long Op { get; init; }

    public StopMode StopMode { get; init; }

    public AfterStop Then { get; init; }

    /// <summary>When automatic restarts happened (those inside the restart window count).</summary>
    public IReadOnlyList<DateTimeOffset> Restarts { get; init; } = [];

    public IReadOnlyList<string> FailureReasons { get; init; } = [];

    /// <summary>While Recovering: how long until the next start attempt.</summary>
    public TimeSpan RetryDelay { get; init; }

    public DateTimeOffset Since { get; init; }

    public string? LastError { get; init; }

    public bool Exists => Phase is not (VmPhase.Absent or VmPhase.Deleted);
}
