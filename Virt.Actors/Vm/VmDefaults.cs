using Microsoft.Extensions.Configuration;

namespace Virt.Actors.Vm;

/// <summary>Bound from <c>virt.vm</c>: lifecycle defaults for VMs whose spec does not set them (see hocon/virt.conf).</summary>
public sealed class VmDefaults : Virt.Hocon.IValidatedOptions
{
    /// <summary>How long a graceful shutdown may take before the VM is destroyed.</summary>
    [ConfigurationKeyName("stop-timeout")]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a start may take before it counts as failed.</summary>
    [ConfigurationKeyName("start-timeout")]
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a started VM's guest may take to be ready (its spec's readiness check) before that is reported.</summary>
    [ConfigurationKeyName("ready-timeout")]
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromSeconds(60);

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

    /// <summary>An automatic restart that no host could take is tried again after this long.</summary>
    [ConfigurationKeyName("placement-retry")]
    public TimeSpan PlacementRetry { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a VM waits for the balancer's answer before it asks again.</summary>
    [ConfigurationKeyName("placement-timeout")]
    public TimeSpan PlacementTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<(string Key, string Problem)> Problems()
    {
        foreach (var (key, value) in new[]
                 {
                     ("stop-timeout", StopTimeout), ("start-timeout", StartTimeout), ("ready-timeout", ReadyTimeout), ("restart-window", RestartWindow), ("restart-backoff", RestartBackoff),
                     ("restart-backoff-max", RestartBackoffMax), ("placement-retry", PlacementRetry), ("placement-timeout", PlacementTimeout),
                 })
        {
            if (value <= TimeSpan.Zero)
                yield return (key, "must be a positive duration, like 30s");
        }

        if (MaxRestarts < 0)
            yield return ("max-restarts", $"must be 0 or more, not {MaxRestarts}");
        if (RestartBackoff > RestartBackoffMax)
            yield return ("restart-backoff", $"({RestartBackoff.TotalSeconds:0.###}s) is above restart-backoff-max ({RestartBackoffMax.TotalSeconds:0.###}s)");
    }
}
