using System.Globalization;
using System.Xml.Linq;
using Virt.Actors.Vm;

namespace Virt.Node.Libvirt;

/// <summary>
/// Domain XML for a VM spec, valid for libvirt's test driver and for QEMU/KVM: disks (file, block, RBD with monitors
/// and a secret), NICs (network or bridge, VLAN tag, Open vSwitch), a serial console, the guest agent channel and,
/// for a VM whose readiness check is virtio-signal, the <c>startup_signal</c> channel its guest says it is ready on,
/// bound to a UNIX socket on the host (see <see cref="StartupSignalSocket"/>). Metadata marks the domain as Virt's.
/// </summary>
internal static class DomainXml
{
    public const string MetadataNamespace = "https://virt.dev/xmlns/vm/1";

    /// <param name="domainType">test, qemu or kvm.</param>
    /// <param name="vncListen">The address a VNC display listens on (virt.libvirt.vnc-listen).</param>
    /// <param name="channelDir">The host directory of the startup_signal sockets (virt.libvirt.channel-dir, resolved).</param>
    public static string Render(VmSpec spec, string domainType, string vncListen = "127.0.0.1", string channelDir = "/var/lib/virt/channels")
    {
        XNamespace virt = MetadataNamespace;
        var memory = spec.MemoryMib.ToString(CultureInfo.InvariantCulture);
        var domain = new XElement("domain", new XAttribute("type", domainType),
            new XElement("name", spec.Name),
            new XElement("uuid", spec.Uuid.ToString()),
            new XElement("metadata", new XElement(virt + "vm", new XAttribute(XNamespace.Xmlns + "virt", MetadataNamespace),
                new XElement(virt + "managed-by", "virt"),
                new XElement(virt + "priority", spec.Priority))),
            new XElement("memory", new XAttribute("unit", "MiB"), memory),
            new XElement("currentMemory", new XAttribute("unit", "MiB"), memory),
            new XElement("vcpu", new XAttribute("placement", "static"), spec.Vcpus),
            new XElement("os", new XElement("type", new XAttribute("arch", "x86_64"), "hvm"), Boot(spec.Kernel)),
            new XElement("features", new XElement("acpi"), new XElement("apic")),
            new XElement("on_poweroff", "destroy"),
            new XElement("on_reboot", "restart"),
            new XElement("on_crash", "destroy"),
            new XElement("devices",
                spec.Disks.Select(Disk),
                spec.Nics.Select(Nic),
                new XElement("serial", new XAttribute("type", "pty"), new XElement("target", new XAttribute("port", 0))),
                new XElement("console", new XAttribute("type", "pty"), new XElement("target", new XAttribute("type", "serial"), new XAttribute("port", 0))),
                Channel("org.qemu.guest_agent.0"),
                spec.ReadyCheck.Kind == ReadinessKind.VirtioSignal ? BoundChannel(ReadinessSpec.ChannelName, StartupSignalSocket(channelDir, spec.Uuid)) : null,
                spec.Vnc ? Vnc(spec.VncPort, vncListen) : null));
        return domain.ToString(SaveOptions.DisableFormatting);
    }

    /// <summary>A disk boot, or the kernel, initramfs and command line given.</summary>
    private static object[] Boot(KernelSpec? kernel) => kernel is null
        ? [new XElement("boot", new XAttribute("dev", "hd"))]
        : [new XElement("kernel", kernel.Path), kernel.Initrd is null ? null! : new XElement("initrd", kernel.Initrd), kernel.Cmdline is null ? null! : new XElement("cmdline", kernel.Cmdline)];

    private static XElement Vnc(int? port, string listen) =>
        new("graphics", new XAttribute("type", "vnc"), new XAttribute("port", port ?? -1), new XAttribute("autoport", port is null ? "yes" : "no"), new XAttribute("listen", listen));

    /// <summary>
    /// The socket of a VM's startup_signal channel: QEMU listens on it (libvirt's bind mode), the node agent connects.
    /// One per domain, since such a socket takes one client at a time; named by the VM's uuid, which keeps it short
    /// (a UNIX socket path has at most <see cref="MaxSocketPath"/> characters).
    /// </summary>
    public static string StartupSignalSocket(string channelDir, Guid vm) => Path.Combine(channelDir, $"{vm}.sock");

    public const int MaxSocketPath = 107;

    private static XElement BoundChannel(string name, string path) =>
        new("channel", new XAttribute("type", "unix"),
            new XElement("source", new XAttribute("mode", "bind"), new XAttribute("path", path)),
            new XElement("target", new XAttribute("type", "virtio"), new XAttribute("name", name)));

    private static XElement Channel(string name) =>
        new("channel", new XAttribute("type", "unix"), new XElement("target", new XAttribute("type", "virtio"), new XAttribute("name", name)));

    private static XElement Disk(DiskSpec d)
    {
        var format = d.Path.EndsWith(".qcow2", StringComparison.OrdinalIgnoreCase) ? "qcow2" : "raw";
        var target = new XElement("target", new XAttribute("dev", d.Target), new XAttribute("bus", d.Bus));
        var driver = new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", format), new XAttribute("cache", "none"));
        var readOnly = d.ReadOnly ? new XElement("readonly") : null;
        return d.Kind switch
        {
            DiskKind.File => new XElement("disk", new XAttribute("type", "file"), new XAttribute("device", "disk"),
                driver, new XElement("source", new XAttribute("file", d.Path)), target, readOnly),
            DiskKind.Block => new XElement("disk", new XAttribute("type", "block"), new XAttribute("device", "disk"),
                driver, new XElement("source", new XAttribute("dev", d.Path)), target, readOnly),
            _ => new XElement("disk", new XAttribute("type", "network"), new XAttribute("device", "disk"),
                driver,
                d.User is null ? null : new XElement("auth", new XAttribute("username", d.User),
                    d.SecretUuid is { } secret ? new XElement("secret", new XAttribute("type", "ceph"), new XAttribute("uuid", secret.ToString())) : null),
                new XElement("source", new XAttribute("protocol", "rbd"), new XAttribute("name", d.Path),
                    (d.Monitors ?? []).Select(Host)),
                target, readOnly),
        };
    }

    private static XElement Host(string monitor)
    {
        var colon = monitor.LastIndexOf(':');
        return colon > 0 && !monitor.EndsWith(']')
            ? new XElement("host", new XAttribute("name", monitor[..colon]), new XAttribute("port", monitor[(colon + 1)..]))
            : new XElement("host", new XAttribute("name", monitor), new XAttribute("port", "6789"));
    }

    private static XElement Nic(NicSpec n) =>
        new("interface", new XAttribute("type", n.Kind == NicKind.Bridge ? "bridge" : "network"),
            new XElement("source", new XAttribute(n.Kind == NicKind.Bridge ? "bridge" : "network", n.Source)),
            n.Mac is null ? null : new XElement("mac", new XAttribute("address", n.Mac)),
            n.OpenVSwitch ? new XElement("virtualport", new XAttribute("type", "openvswitch")) : null,
            n.Vlan is { } tag ? new XElement("vlan", new XElement("tag", new XAttribute("id", tag))) : null,
            new XElement("model", new XAttribute("type", n.Model)));
}
