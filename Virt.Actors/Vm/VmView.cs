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
    DateTimeOffset Since)
{
    public static VmView Of(VmState s, VmDefaults defaults, DateTimeOffset now)
    {
        var window = s.Spec!.RestartWindow ?? defaults.RestartWindow;
        return new VmView(s.Spec.Name, s.Phase, s.Desired, s.Node, s.Spec, s.Restarts.Count(t => now - t < window), s.FailureReasons, s.LastError, s.Since);
    }
}

/// <summary>Messages to the VM directory and to VM actors.</summary>
public static class VmProtocol
{
    /// <summary>A command for the VM <paramref name="Name"/>; the reply is a <c>CommandResult&lt;VmState, VmEvent&gt;</c> or <see cref="NotFound"/>.</summary>
    public sealed record ToVm(string Name, VmCommand Command);

    public sealed record GetVm(string Name);

    public sealed record ListVms;

    public sealed record NotFound(string Name);

    /// <summary>Sent by a VM actor to the directory after recovery and after every change.</summary>
    public sealed record Changed(string Name, VmView? View, bool Recovered);

    /// <summary>The directory's answer when it cannot take commands yet (still recovering).</summary>
    public sealed record Status(int Vms, bool Ready, int Recovering);

    public sealed record GetStatus;
}
