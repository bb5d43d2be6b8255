using System.Globalization;
using Virt.Actors.Persistence;

namespace Virt.Actors.Vm;

/// <summary>A VM as the API and shell show it.</summary>
/// <param name="Ready">Running and ready by its readiness check (what a start order waits on).</param>
/// <param name="Readiness">For people: "ready since ...", "waiting for ready (virtio-signal, 12 s of 60 s)", "not ready ...".</param>
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
    VmSpec? PendingSpec = null,
    bool Ready = false,
    DateTimeOffset? ReadySince = null,
    string? ReadyEvidence = null,
    string? Readiness = null) : IVirtSerializable
{
    /// <param name="entityNode">The node the VM's entity lives on, when the entity itself answers.</param>
    public static VmView Of(VmState s, VmDefaults defaults, DateTimeOffset now, string? entityNode = null)
    {
        var window = s.Spec!.RestartWindow ?? defaults.RestartWindow;
        return new VmView(s.Spec.Name, s.Phase, s.Desired, s.Node, s.Spec, s.Restarts.Count(t => now - t < window), s.FailureReasons, s.LastError, s.Since, s.Op, s.AwaitingFence, entityNode, s.PendingSpec,
            s.IsReady, s.IsReady ? s.ReadySince : null, s.IsReady ? s.ReadyEvidence : null, ReadinessText(s, defaults, now));
    }

    /// <summary>The VM's readiness in words; null when it is not running.</summary>
    private static string? ReadinessText(VmState s, VmDefaults defaults, DateTimeOffset now)
    {
        if (s.Phase != VmPhase.Running)
            return null;
        if (s.IsReady)
            return string.Create(CultureInfo.InvariantCulture, $"ready since {s.ReadySince:yyyy-MM-dd HH:mm:ss}Z ({s.ReadyEvidence})");
        var check = s.Spec!.ReadyCheck;
        var timeout = check.Timeout ?? defaults.ReadyTimeout;
        var waited = Math.Max(0, (now - s.Since).TotalSeconds);
        var kind = ReadinessSpec.KindName(check.Kind);
        return s.ReadyOverdue
            ? string.Create(CultureInfo.InvariantCulture, $"not ready: still waiting for ready ({kind}) after {waited:0} s, past its {timeout.TotalSeconds:0.###} s timeout")
            : string.Create(CultureInfo.InvariantCulture, $"waiting for ready ({kind}, {waited:0} s of {timeout.TotalSeconds:0.###} s timeout)");
    }
}
