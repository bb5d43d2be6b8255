using Virt.Actors.Vm;
using Virt.Node.Libvirt;
using Virt.Tests.Support;

namespace Virt.Tests.Libvirt;

public sealed class DomainXmlTests
{
    private static readonly VmSpec Full = new(
        "db-1", Guid.Parse("5b0d6f0e-1a2b-4c3d-9e8f-001122334455"), 4, 8192,
        [
            new DiskSpec(DiskKind.File, "/var/lib/images/db-1.qcow2"),
            new DiskSpec(DiskKind.Block, "/dev/vg0/db-1-data", "vdb"),
            new DiskSpec(DiskKind.Rbd, "rbd/db-1-logs", "vdc", Monitors: ["10.0.0.1:6789", "10.0.0.2"], User: "libvirt", SecretUuid: Guid.Parse("0a1b2c3d-0000-4000-8000-aaaaaaaaaaaa")),
        ],
        [
            new NicSpec(NicKind.Network, "default", Mac: "52:54:00:aa:bb:cc"),
            new NicSpec(NicKind.Bridge, "ovsbr0", Vlan: 42, OpenVSwitch: true),
        ],
        Vnc: true,
        VncPort: 5907,
        Readiness: new ReadinessSpec(ReadinessKind.VirtioSignal));

    [Fact]
    public void Every_device_kind_passes_libvirts_schema_validation_and_starts_on_the_test_driver()
    {
        using var host = new SimulatedHost();
        using var conn = LibvirtConnection.Open(host.Uri);
        conn.Define(DomainXml.Render(Full, "test")); // defined with VIR_DOMAIN_DEFINE_VALIDATE
        conn.Start("db-1");
        var xml = conn.Xml("db-1");
        Assert.Contains("5b0d6f0e-1a2b-4c3d-9e8f-001122334455", xml);
        Assert.Contains("<source file='/var/lib/images/db-1.qcow2'", xml);
        Assert.Contains("<source dev='/dev/vg0/db-1-data'", xml);
        Assert.Contains("protocol='rbd' name='rbd/db-1-logs'", xml);
        Assert.Contains("<host name='10.0.0.2' port='6789'", xml);
        Assert.Contains("<secret type='ceph' uuid='0a1b2c3d-0000-4000-8000-aaaaaaaaaaaa'", xml);
        Assert.Contains("<tag id='42'", xml);
        Assert.Contains("<virtualport type='openvswitch'", xml);
        Assert.Contains("<source mode='bind' path='/var/lib/virt/channels/5b0d6f0e-1a2b-4c3d-9e8f-001122334455.sock'/><target type='virtio' name='startup_signal'", xml.Replace("\n", "").Replace("  ", ""));
        Assert.Contains("name='org.qemu.guest_agent.0'", xml);
        Assert.Contains("<virt:managed-by>virt</virt:managed-by>", xml);
    }

    [Fact]
    public void Only_a_virtio_signal_check_gets_the_startup_signal_channel_and_its_socket_is_in_the_channel_dir()
    {
        Assert.DoesNotContain("startup_signal", DomainXml.Render(Full with { Readiness = null }, "qemu"));
        Assert.DoesNotContain("startup_signal", DomainXml.Render(Full with { Readiness = new ReadinessSpec(ReadinessKind.Tcp, "10.0.0.5:22") }, "qemu"));
        Assert.Contains("path=\"/srv/ch/5b0d6f0e-1a2b-4c3d-9e8f-001122334455.sock\"", DomainXml.Render(Full, "qemu", channelDir: "/srv/ch"));
        Assert.Contains("org.qemu.guest_agent.0", DomainXml.Render(Full with { Readiness = null }, "qemu")); // the guest agent's channel is always there
    }

    [Theory]
    [InlineData("qemu")]
    [InlineData("kvm")]
    public async Task The_document_is_valid_for_qemu_and_kvm_by_libvirts_own_schema(string type)
    {
        // virt-xml-validate (libvirt-clients) checks against libvirt's RNG schema, independent of any driver.
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("d.xml"), DomainXml.Render(Full, type));
        using var validate = ChildProcess.Start("virt-xml-validate", [dir.File("d.xml"), "domain"]);
        var output = new List<string>();
        while (await validate.ReadLine(TimeSpan.FromSeconds(30)) is { } line)
            output.Add(line);
        Assert.True(await validate.WaitForExit(TimeSpan.FromSeconds(30)) == 0, string.Join('\n', output) + validate.Stderr);
        Assert.Contains("validates", validate.Stderr + string.Join('\n', output));

        File.WriteAllText(dir.File("bad.xml"), DomainXml.Render(Full, type).Replace("<vcpu placement=\"static\">4</vcpu>", "<vcpu placement=\"static\">four</vcpu>"));
        using var invalid = ChildProcess.Start("virt-xml-validate", [dir.File("bad.xml"), "domain"]);
        Assert.NotEqual(0, await invalid.WaitForExit(TimeSpan.FromSeconds(30))); // the check can fail
    }
}
