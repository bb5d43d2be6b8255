namespace Virt.Scheduler;

public enum PlacementStrategy
{
    /// <summary>Spread load, normalized over dimensions.</summary>
    Balanced,

    /// <summary>Fill nodes before using new ones (consolidation).</summary>
    Pack,
}

/// <param name="MigrationThreshold">Failures of a VM on a node after which it avoids that node.</param>
/// <param name="FailureTimeoutSeconds">Failures older than this are forgotten.</param>
/// <param name="MinGain">Rebalance stickiness: a running VM moves only for at least this much load improvement.</param>
/// <param name="NegativeScoreForbids">A VM never goes where the sum of its location and colocation scores is negative (Pacemaker's rule).</param>
/// <param name="Stickiness">Repair: a running VM moves toward a preference only when its total there beats its total here by more than this.</param>
public sealed record PlacementPolicy(
    PlacementStrategy Strategy = PlacementStrategy.Balanced,
    bool Preempt = false,
    int MigrationThreshold = 3,
    double FailureTimeoutSeconds = 600,
    double MinGain = 0.05,
    int MaxMigrations = 20,
    int MaxMigrationsPerNode = 2,
    bool NegativeScoreForbids = true,
    double Stickiness = 0);
