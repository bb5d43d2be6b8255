namespace Virt.Scheduler;

public enum DecisionKind
{
    Start,
    Migrate,
    Restart,
    Stop,
}

/// <param name="Step">Order of execution: every step fits given the steps before it.</param>
/// <param name="Why">A sentence for people.</param>
/// <param name="After">Steps this start waits for (order rules); empty when it waits for none.</param>
public sealed record PlanDecision(string Vm, DecisionKind Kind, string? From, string? To, int Step, string Why, IReadOnlyList<int>? After = null)
{
    public IReadOnlyList<int> After { get; init; } = After ?? [];
}

/// <param name="Reasons">Per node, why the VM is not there.</param>
public sealed record UnplacedVm(string Vm, IReadOnlyDictionary<string, string> Reasons);

/// <param name="Holds">True only when every HA VM has X failover targets with room reserved (see <see cref="PlanResult.FailoverTargets"/>).</param>
public sealed record ReservationReport(int Failures, bool Holds, string Detail);

/// <param name="FailoverTargets">Per HA VM, the nodes it restarts on (first surviving one) if its node fails: the witness of the reservation.</param>
public sealed record PlanResult(
    IReadOnlyList<PlanDecision> Decisions,
    IReadOnlyList<UnplacedVm> Unplaced,
    ReservationReport Reservation,
    double ElapsedMs,
    IReadOnlyDictionary<string, IReadOnlyList<string>> FailoverTargets);
