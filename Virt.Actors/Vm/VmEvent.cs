namespace Virt.Actors.Vm;

/// <summary>What happened to a VM; its journal. Each carries when it was decided.</summary>
public abstract record VmEvent(DateTimeOffset At)
{
    public sealed record Defined(VmSpec Spec, DateTimeOffset At) : VmEvent(At);

    public sealed record SpecUpdated(VmSpec Spec, DateTimeOffset At) : VmEvent(At);

    /// <param name="CountsAsRestart">An automatic start that spends one of the restarts allowed in the window.</param>
    public sealed record StartRequested(long Op, string Node, string Why, bool CountsAsRestart, DateTimeOffset At) : VmEvent(At);

    public sealed record Started(long Op, DateTimeOffset At) : VmEvent(At);

    public sealed record StartFailed(long Op, string Reason, DateTimeOffset At) : VmEvent(At);

    public sealed record StopRequested(long Op, StopMode Mode, AfterStop Then, string Why, DateTimeOffset At) : VmEvent(At);

    /// <summary>The graceful shutdown took too long: destroying.</summary>
    public sealed record StopEscalated(long Op, DateTimeOffset At) : VmEvent(At);

    public sealed record Stopped(DateTimeOffset At) : VmEvent(At);

    public sealed record StoppedUnexpectedly(string Reason, DateTimeOffset At) : VmEvent(At);

    /// <param name="Reason">Why a restart is needed, kept with the VM's failure reasons.</param>
    public sealed record RestartScheduled(long Op, int Attempt, TimeSpan Delay, string Reason, DateTimeOffset At) : VmEvent(At);

    public sealed record Failed(IReadOnlyList<string> Reasons, DateTimeOffset At) : VmEvent(At);

    public sealed record FailuresCleared(DateTimeOffset At) : VmEvent(At);

    public sealed record DesiredChanged(PowerState Desired, string Why, DateTimeOffset At) : VmEvent(At);

    public sealed record Deleted(DateTimeOffset At) : VmEvent(At);
}
