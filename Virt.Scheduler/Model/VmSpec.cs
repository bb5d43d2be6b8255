namespace Virt.Scheduler;

/// <summary>Failed starts of a VM on one node; <see cref="LastSecondsAgo"/> dates the latest.</summary>
public sealed record FailureHistory(int Count, double LastSecondsAgo);

/// <param name="Node">Where it runs now; null when pending.</param>
/// <param name="Home">Preferred node for failback; null when none.</param>
/// <param name="Ha">Restarted elsewhere when its node fails, and counted in the N+X reservation.</param>
/// <param name="MigrationThreshold">Overrides the policy's for this VM.</param>
/// <param name="FailureTimeoutSeconds">Overrides the policy's for this VM.</param>
/// <param name="Group">Start-order group (order rules may name it instead of each VM).</param>
public sealed record VmSpec(
    string Name,
    IReadOnlyDictionary<string, double> Demand,
    int Priority = 0,
    bool Ha = true,
    string? Node = null,
    string? Home = null,
    IReadOnlyDictionary<string, FailureHistory>? Failures = null,
    int? MigrationThreshold = null,
    double? FailureTimeoutSeconds = null,
    string? Group = null);
