using System.Threading.Channels;
using Virt.Node.Libvirt;
using Virt.Tests.Support;

namespace Virt.Tests.Libvirt;

/// <summary>The binding against libvirt's real test driver.</summary>
public sealed class LibvirtConnectionTests : IDisposable
{
    private readonly SimulatedHost _host = new(cpus: 12, memoryMiB: 32768);
    private readonly LibvirtConnection _conn;

    public LibvirtConnectionTests() => _conn = LibvirtConnection.Open(_host.Uri);

    public void Dispose()
    {
        _conn.Dispose();
        _host.Dispose();
    }

    private static string Xml(string name, string uuid) => $"""
        <domain type='test'>
          <name>{name}</name>
          <uuid>{uuid}</uuid>
          <memory unit='MiB'>512</memory>
          <vcpu>2</vcpu>
          <os><type arch='x86_64'>hvm</type></os>
        </domain>
        """;

    [Fact]
    public void Host_info_comes_from_the_simulated_host_file()
    {
        var info = _conn.HostInfo();
        Assert.Equal(12, info.Cpus);
        Assert.Equal(32768L * 1024 * 1024, info.MemoryBytes);
        Assert.Equal("TEST", _conn.DriverType().ToUpperInvariant());
        Assert.True(_conn.IsAlive);
    }

    [Fact]
    public void Define_start_suspend_resume_reboot_reset_shutdown_destroy_undefine()
    {
        var uuid = Guid.NewGuid().ToString();
        _conn.Define(Xml("vm1", uuid));
        Assert.Equal(DomainRunState.Shutoff, _conn.State("vm1")!.Value.State);
        Assert.Contains(_conn.ListDomains(), d => d.Name == "vm1" && d.Uuid == uuid && d.State == DomainRunState.Shutoff);

        _conn.Start("vm1");
        Assert.Equal(DomainRunState.Running, _conn.State("vm1")!.Value.State);
        var info = _conn.Info("vm1");
        Assert.Equal(2, info.VirtCpus);
        Assert.Equal(512L * 1024 * 1024, info.MaxMemoryBytes);
        Assert.Contains($"<uuid>{uuid}</uuid>", _conn.Xml("vm1"));

        _conn.Suspend("vm1");
        Assert.Equal(DomainRunState.Paused, _conn.State("vm1")!.Value.State);
        _conn.Resume("vm1");
        _conn.Reboot("vm1");
        _conn.Reset("vm1");
        Assert.Equal(DomainRunState.Running, _conn.State("vm1")!.Value.State);

        _conn.Shutdown("vm1");
        Assert.Equal(DomainRunState.Shutoff, _conn.State("vm1")!.Value.State);
        _conn.Start("vm1");
        _conn.Destroy("vm1");
        Assert.Equal(DomainRunState.Shutoff, _conn.State("vm1")!.Value.State);
        _conn.Undefine("vm1");
        Assert.Null(_conn.State("vm1"));
    }

    [Fact]
    public void Errors_are_typed_and_carry_libvirts_code_and_message()
    {
        var missing = Assert.Throws<DomainNotFoundException>(() => _conn.Start("nope"));
        Assert.Equal(LibvirtException.ErrorCodes.NoDomain, missing.Code);
        Assert.Contains("nope", missing.Message);

        _conn.Define(Xml("vm2", Guid.NewGuid().ToString()));
        var notRunning = Assert.Throws<LibvirtException>(() => _conn.Destroy("vm2"));
        Assert.Equal(LibvirtException.ErrorCodes.OperationInvalid, notRunning.Code);
        Assert.Contains("not running", notRunning.LibvirtMessage);

        var bad = Assert.Throws<LibvirtException>(() => _conn.Define("<domain type='test'><name>x</name></domain>"));
        Assert.False(string.IsNullOrEmpty(bad.LibvirtMessage));

        var open = Assert.Throws<LibvirtException>(() => LibvirtConnection.Open("test:///nonexistent/host.xml"));
        Assert.Contains("nonexistent", open.Message);
    }

    [Fact]
    public async Task Lifecycle_events_arrive_on_the_event_loop()
    {
        var events = Channel.CreateUnbounded<DomainLifecycleEvent>();
        _conn.SubscribeLifecycle(e => events.Writer.TryWrite(e));
        _conn.Define(Xml("vm3", Guid.NewGuid().ToString()));
        _conn.Start("vm3");
        _conn.Destroy("vm3");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<DomainLifecycleEvent>();
        while (!seen.Any(e => e.Type == DomainEventType.Stopped))
            seen.Add(await events.Reader.ReadAsync(cts.Token));
        Assert.Equal([DomainEventType.Defined, DomainEventType.Started, DomainEventType.Stopped], seen.Where(e => e.Name == "vm3").Select(e => e.Type));
        Assert.Equal(StoppedDetail.Destroyed, seen.Last().Stopped);
    }

    [Fact]
    public void Send_key_reaches_a_running_domain()
    {
        _conn.Define(Xml("vm4", Guid.NewGuid().ToString()));
        Assert.Throws<LibvirtException>(() => _conn.SendKey("vm4", [28])); // not running
        _conn.Start("vm4");
        _conn.SendKey("vm4", [28], holdMs: 10); // Enter
    }

    [Fact]
    public void Each_open_of_a_host_file_is_a_separate_simulated_host()
    {
        _conn.Define(Xml("only-here", Guid.NewGuid().ToString()));
        using var other = LibvirtConnection.Open(_host.Uri);
        Assert.DoesNotContain(other.ListDomains(), d => d.Name == "only-here");
    }
}
