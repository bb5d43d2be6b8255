using Microsoft.Extensions.Configuration;

namespace Virt.Actors.Vm;

/// <summary>Bound from <c>virt.vm</c>: lifecycle defaults for VMs whose spec does not set them (see hocon/virt.conf).</summary>
public sealed class VmDefaults
{
    /// <summary>How long a graceful shutdown may take before the VM is destroyed.</summary>
    [ConfigurationKeyName("stop-timeout")]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a start may take before it counts as failed.</summary>
    [ConfigurationKeyName("start-timeout")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Automatic restarts allowed within <see cref="RestartWindow"/>; one more and the VM is Failed.</summary>
    [ConfigurationKeyName("max-restarts")]
    public int MaxRestarts { get; set; } = 3;

    [ConfigurationKeyName("restart-window")]
    public TimeSpan RestartWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Wait before the first automatic restart; doubles per restart in the window.</summary>
    [ConfigurationKeyName("restart-backoff")]
    public TimeSpan RestartBackoff { get; set; } = TimeSpan.FromSeconds(1);

    [ConfigurationKeyName("restart-backoff-max")]
    public TimeSpan RestartBackoffMax { get; set; } = TimeSpan.FromSeconds(30);
}
