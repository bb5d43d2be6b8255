using Microsoft.Extensions.Configuration;

namespace Virt.Node.Agent;

/// <summary>Bound from <c>virt.libvirt</c>; see hocon/virt.conf.</summary>
internal sealed class LibvirtOptions
{
    /// <summary>A libvirt URI, or <c>simulated</c>: the test driver with simulated-host.xml shipped next to virt-node.</summary>
    public string Uri { get; set; } = "simulated";

    /// <summary>test, qemu, kvm, or auto (test for the test driver; kvm when /dev/kvm exists, else qemu).</summary>
    [ConfigurationKeyName("domain-type")]
    public string DomainType { get; set; } = "auto";

    [ConfigurationKeyName("reconnect-min")]
    public TimeSpan ReconnectMin { get; set; } = TimeSpan.FromSeconds(1);

    [ConfigurationKeyName("reconnect-max")]
    public TimeSpan ReconnectMax { get; set; } = TimeSpan.FromSeconds(30);

    [ConfigurationKeyName("keepalive-interval")]
    public TimeSpan KeepaliveInterval { get; set; } = TimeSpan.FromSeconds(5);

    [ConfigurationKeyName("keepalive-count")]
    public uint KeepaliveCount { get; set; } = 3;

    public string ResolvedUri => Uri == "simulated" ? "test://" + Path.Combine(AppContext.BaseDirectory, "simulated-host.xml") : Uri;
}
