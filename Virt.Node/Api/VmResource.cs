using Virt.Actors.Vm;

namespace Virt.Node.Api;

/// <summary>
/// A VM in API responses: its state and its spec, flat. <c>operation</c> numbers its side effects (the VM half of a
/// fencing token). <c>pending</c> is the spec it takes at its next start, when its machine was changed while it ran.
/// <c>ready</c>: running and ready by its <c>readiness</c> check (since <c>readySince</c>); <c>readyState</c> says it in words.
/// </summary>
internal sealed record VmResource(
    string Name,
    VmPhase State,
    PowerState Desired,
    string? Node,
    Guid Uuid,
    int Vcpus,
    long MemoryMib,
    IReadOnlyList<DiskSpec> Disks,
    IReadOnlyList<NicSpec> Nics,
    RestartPolicy Restart,
    int Priority,
    TimeSpan? StopTimeout,
    int? MaxRestarts,
    TimeSpan? RestartWindow,
    int RestartsInWindow,
    IReadOnlyList<string> FailureReasons,
    string? LastError,
    DateTimeOffset Since,
    long Operation,
    string? AwaitingFence,
    string? EntityNode,
    IReadOnlyDictionary<string, string> Labels,
    System.Text.Json.Nodes.JsonObject? Pending,
    ReadinessSpec Readiness,
    bool Ready,
    DateTimeOffset? ReadySince,
    string? ReadyEvidence,
    string? ReadyState)
{
    public static VmResource Of(VmView v) => new(
        v.Name, v.State, v.Desired, v.Node, v.Spec.Uuid, v.Spec.Vcpus, v.Spec.MemoryMib, v.Spec.Disks, v.Spec.Nics, v.Spec.Restart, v.Spec.Priority,
        v.Spec.StopTimeout, v.Spec.MaxRestarts, v.Spec.RestartWindow, v.RestartsInWindow, v.FailureReasons, v.LastError, v.Since, v.Op, v.AwaitingFence, v.EntityNode,
        v.Spec.Labels ?? new Dictionary<string, string>(), v.PendingSpec is { } p ? SpecDocument.Of(p) : null,
        v.Spec.ReadyCheck, v.Ready, v.ReadySince, v.ReadyEvidence, v.Readiness);
}
