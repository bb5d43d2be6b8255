using Microsoft.Extensions.Configuration;
using Virt.Hocon;

namespace Virt.Actors.Balancer;

/// <summary>Bound from <c>virt.balancer</c>: how the balancer places VMs (see hocon/virt.conf).</summary>
public sealed class BalancerOptions : IValidatedOptions
{
    /// <summary>Capacity multiplier per dimension (<c>vcpu</c>, <c>memory</c>): 4.0 lets 4 vCPUs share one host CPU.</summary>
    public Dictionary<string, double> Overcommit { get; set; } = new(StringComparer.Ordinal) { ["vcpu"] = 4.0, ["memory"] = 1.0 };

    /// <summary>N+X: how many host failures the HA VMs must survive (0 to 2); capacity for them is held back.</summary>
    [ConfigurationKeyName("reserve-failures")]
    public int ReserveFailures { get; set; }

    /// <summary>balanced (spread the load) or pack (fill hosts before using new ones).</summary>
    public string Strategy { get; set; } = "balanced";

    /// <summary>A host that has not reported for this long takes no new VMs.</summary>
    [ConfigurationKeyName("host-timeout")]
    public TimeSpan HostTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>After it starts, the balancer waits this long for hosts to report before it refuses a VM for want of hosts.</summary>
    [ConfigurationKeyName("startup-grace")]
    public TimeSpan StartupGrace { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<(string Key, string Problem)> Problems()
    {
        foreach (var (dim, factor) in Overcommit)
        {
            if (dim is not ("vcpu" or "memory"))
                yield return ($"overcommit.{dim}", "is not a dimension the balancer knows; use vcpu or memory");
            else if (!(factor >= 1.0 && factor <= 100))
                yield return ($"overcommit.{dim}", $"must be a number from 1.0 to 100, not {factor}");
        }

        if (ReserveFailures is < 0 or > 2)
            yield return ("reserve-failures", $"must be 0, 1 or 2, not {ReserveFailures}");
        if (Strategy is not ("balanced" or "pack"))
            yield return ("strategy", $"'{Strategy}' is not one of balanced, pack");
        if (HostTimeout <= TimeSpan.Zero)
            yield return ("host-timeout", "must be a positive duration, like 15s");
        if (StartupGrace < TimeSpan.Zero)
            yield return ("startup-grace", "must not be negative");
    }
}
