using Microsoft.Extensions.Configuration;

namespace Virt.Node.Agent;

/// <summary>Bound from <c>virt.libvirt</c>; see hocon/virt.conf.</summary>
internal sealed class LibvirtOptions : Virt.Hocon.IValidatedOptions
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

    /// <summary>The address VNC displays of VMs listen on (a VM has one when its spec says <c>"vnc": true</c>).</summary>
    [ConfigurationKeyName("vnc-listen")]
    public string VncListen { get; set; } = "127.0.0.1";

    /// <summary>
    /// Where the UNIX sockets of VMs' startup_signal channels are made (virtio-signal readiness). Empty: channels in
    /// virt.data-dir (see <see cref="ResolvedChannelDir"/>, set at start-up).
    /// </summary>
    [ConfigurationKeyName("channel-dir")]
    public string ChannelDir { get; set; } = "";

    public const int MaxChannelDir = 66;

    /// <summary><see cref="ChannelDir"/>, or the data directory's <c>channels</c> when that is empty (see <see cref="ResolveChannelDir"/>).</summary>
    public string ResolvedChannelDir { get; private set; } = "/var/lib/virt/channels";

    /// <summary>Sets <see cref="ResolvedChannelDir"/> once virt.data-dir is known.</summary>
    public void ResolveChannelDir(string dataDir) => ResolvedChannelDir = ChannelDir != "" ? ChannelDir : Path.Combine(dataDir, "channels");

    public string ResolvedUri => Uri == "simulated" ? "test://" + Path.Combine(AppContext.BaseDirectory, "simulated-host.xml") : Uri;

    public IEnumerable<(string Key, string Problem)> Problems()
    {
        if (Uri != "simulated" && !System.Uri.TryCreate(Uri, UriKind.Absolute, out _))
            yield return ("uri", $"'{Uri}' is not a libvirt URI like qemu:///system, qemu+tcp://host/system or test:///path/host.xml (or \"simulated\")");
        if (DomainType is not ("auto" or "test" or "qemu" or "kvm"))
            yield return ("domain-type", $"'{DomainType}' is not one of auto, test, qemu, kvm");
        if (ReconnectMin <= TimeSpan.Zero)
            yield return ("reconnect-min", "must be a positive duration, like 1s");
        if (ReconnectMax <= TimeSpan.Zero)
            yield return ("reconnect-max", "must be a positive duration, like 30s");
        else if (ReconnectMin > ReconnectMax)
            yield return ("reconnect-min", $"({ReconnectMin.TotalSeconds:0.###}s) is above reconnect-max ({ReconnectMax.TotalSeconds:0.###}s); the backoff doubles from the one up to the other");
        if (!System.Net.IPAddress.TryParse(VncListen, out _))
            yield return ("vnc-listen", $"'{VncListen}' is not an IP address like 127.0.0.1 or 0.0.0.0");
        if (ChannelDir != "" && !ChannelDir.StartsWith('/'))
            yield return ("channel-dir", $"'{ChannelDir}' must be an absolute directory path (or empty for channels in virt.data-dir)");
        else if (ChannelDir.Length > MaxChannelDir)
            yield return ("channel-dir", $"'{ChannelDir}' is {ChannelDir.Length} characters; keep it to {MaxChannelDir} at most, since a UNIX socket path (the directory and UUID.sock) must fit in 107");
        if (KeepaliveInterval <= TimeSpan.Zero)
            yield return ("keepalive-interval", "must be a positive duration, like 5s");
    }
}
