using Virt.Actors.Persistence;

namespace Virt.Actors.Vm;

/// <summary>A VM as the API and shell show it.</summary>
public sealed record VmView(
    string Name,
    VmPhase State,
    PowerState Desired,
    string? Node,
    VmSpec Spec,
    int RestartsInWindow,
    IReadOnlyList<string> FailureReasons,
    string? LastError,
    DateTimeOffset Since,
    long Op = 0,
    string? AwaitingFence = null,
    string? EntityNode = null,
    VmSpec? PendingSpec = null) : IVirtSerializable
{
    /// <param name="entityNode">The node the VM's entity lives on, when the entity itself answers.</param>
    public static VmView Of(VmState s, VmDefaults defaults, DateTimeOffset now, string? entityNode = null)
    {
        var window = s.Spec!.RestartWindow ?? defaults.RestartWindow;
        return new VmView(s.Spec.Name, s.Phase, s.Desired, s.Node, s.Spec, s.Restarts.Count(t => now - t < window), s.FailureReasons, s.LastError, s.Since, s.Op, s.AwaitingFence, entityNode, s.PendingSpec);
    }
}
