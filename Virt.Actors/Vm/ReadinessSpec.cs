namespace Virt.Actors.Vm;

/// <summary>How a VM's guest says it is ready for what depends on it (see README, "The ready signal").</summary>
public enum ReadinessKind
{
    /// <summary>Running counts as ready.</summary>
    None,

    /// <summary>The guest writes <c>ready ID</c> on the virtio-serial port <c>startup_signal</c>; the host answers <c>ack ID</c>.</summary>
    VirtioSignal,

    /// <summary>qemu-guest-agent answers <c>guest-ping</c>.</summary>
    GuestAgent,

    /// <summary>A TCP port (<see cref="ReadinessSpec.Tcp"/>) accepts a connection.</summary>
    Tcp,
}

/// <summary>
/// A VM's ready check: its <see cref="Kind"/>, the <c>host:port</c> for <see cref="ReadinessKind.Tcp"/>, and how long
/// after its start the guest may take (null: <c>virt.vm.ready-timeout</c>). A VM not ready by then is reported (its
/// last error says so) and still counts as ready if the signal comes later.
/// </summary>
public sealed record ReadinessSpec(ReadinessKind Kind, string? Tcp = null, TimeSpan? Timeout = null)
{
    /// <summary>The name of the virtio-serial port the guest writes its <c>ready</c> line to.</summary>
    public const string ChannelName = "startup_signal";

    public static string KindName(ReadinessKind kind) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());
}
