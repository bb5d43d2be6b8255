using Virt.Tests.Support;

namespace Virt.Tests.VmLifecycle;

/// <summary>
/// The virtio-signal ready handshake with real QEMU guests on a private libvirtd: a guest that writes
/// <c>ready ID</c> on its startup_signal port is reported ready (with the ID it sent) and gets its <c>ack ID</c>
/// (it says so on its serial console); a guest that sends nothing stays not ready and is reported at its timeout.
/// Both facts are events in the journal: they survive a restart of the node while the guests keep running.
/// </summary>
public sealed class ReadySignalQemuTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-ready");
    private readonly QemuHost _qemu = new();
    private InProcessNode _node = null!;
    private SignalGuest _guest = null!;

    private InProcessNode Node() => new(_dir.File("node"), _qemu.Uri, "virt.libvirt.domain-type=qemu", "virt.vm.start-timeout=60s", $"virt.libvirt.channel-dir={_dir.File("ch")}");

    public async Task InitializeAsync()
    {
        Assert.True(QemuHost.Available && SignalGuest.Available && SignalGuest.AgentAvailable, "needs root, libvirtd, qemu-system-x86, busybox-static, cpio, kmod, qemu-guest-agent and a kernel with its modules in /boot and /lib/modules (scripts/test installs them)");
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        _guest = await SignalGuest.Build(_dir.File("guest"), withAgent: true);
        await _qemu.Start();
        _node = Node();
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _qemu.DisposeAsync();
        _dir.Dispose();
    }

    private object Vm(string name, string cmdline, string timeout, string kind = "virtio-signal") => new
    {
        name, vcpus = 1, memory = "128MiB", restart = "never",
        kernel = new { path = _guest.Kernel, initrd = _guest.Initrd, cmdline },
        readiness = new { kind, timeout },
    };

    /// <summary>Two guests boot at once under software emulation on 2 shared cores: a boot may take a while.</summary>
    private Task<System.Text.Json.Nodes.JsonNode> WaitFor(string vm, Func<System.Text.Json.Nodes.JsonNode, bool> condition, string what) =>
        Eventually.Until(() => _node.Get($"/v1/vms/{vm}"), condition, $"{vm} is {what}", 120);

    [Fact]
    public async Task A_guest_is_ready_once_it_sent_ready_and_got_its_ack_and_a_silent_one_is_reported_at_its_timeout()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        await _node.Post("/v1/vms", Vm("sig-1", SignalGuest.Cmdline(id), "120s"), expect: 201);
        await _node.Post("/v1/vms", Vm("mute-1", SignalGuest.Cmdline("never", silent: true), "20s"), expect: 201);
        await _node.Post("/v1/vms/sig-1/start", expect: 202);
        await _node.Post("/v1/vms/mute-1/start", expect: 202);
        await WaitFor("sig-1", v => v["state"]!.GetValue<string>() == "running", "running");
        Assert.Contains("running", _qemu.Virsh("domstate", "sig-1").Out);
        var waiting = await WaitFor("mute-1", v => v["state"]!.GetValue<string>() == "running", "running");
        Assert.StartsWith("waiting for ready (virtio-signal, ", waiting["readyState"]!.GetValue<string>()); // it never sends: nothing races this
        Assert.EndsWith(" of 20 s timeout)", waiting["readyState"]!.GetValue<string>());

        var domain = _qemu.Virsh("dumpxml", "sig-1").Out; // the channel, bound to a socket in the configured directory
        Assert.Contains("<target type='virtio' name='startup_signal'", domain);
        Assert.Contains($"path='{_dir.File("ch")}/", domain);

        var ready = await WaitFor("sig-1", v => v["ready"]!.GetValue<bool>(), "ready");
        Assert.Equal($"virtio-signal: 'ready {id}' acknowledged", ready["readyEvidence"]!.GetValue<string>()); // the ID this guest sent
        Assert.Equal("running", ready["state"]!.GetValue<string>());

        // The guest got its ack: it says so on its serial console.
        using (var console = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.Virt, "vm", "console", "sig-1"], new Dictionary<string, string> { ["VIRT_API"] = _node.Http.BaseAddress!.Authority }, input: true))
        {
            await console.WaitForLine(l => l.Contains($"signalguest: acked {id}", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            console.Write("\u001d");
            await console.WaitForExit(TimeSpan.FromSeconds(20));
        }

        var mute = await WaitFor("mute-1", v => v["lastError"] is not null, "reported not ready");
        Assert.Equal("not ready within 20 s of its start: the guest sent no 'ready' line on its startup_signal port", mute["lastError"]!.GetValue<string>());
        Assert.Equal(("running", false), (mute["state"]!.GetValue<string>(), mute["ready"]!.GetValue<bool>()));
        Assert.Contains("running", _qemu.Virsh("domstate", "mute-1").Out); // reported, not stopped

        // Both are events in the journal: a restarted node (the guests run on) still knows them.
        var readySince = ready["readySince"]!.GetValue<DateTimeOffset>();
        await _node.Stop();
        _node = Node();
        await _node.Start();
        var after = await _node.WaitForState("sig-1", "running");
        Assert.True(after["ready"]!.GetValue<bool>());
        Assert.Equal(readySince, after["readySince"]!.GetValue<DateTimeOffset>());
        var muteAfter = await _node.WaitForState("mute-1", "running");
        Assert.Equal((false, mute["lastError"]!.GetValue<string>()), (muteAfter["ready"]!.GetValue<bool>(), muteAfter["lastError"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_guest_agent_check_is_ready_once_qemu_guest_agent_answers_and_a_guest_without_it_is_reported()
    {
        await _node.Post("/v1/vms", Vm("qga-1", SignalGuest.Cmdline("x", agent: true), "120s", "guest-agent"), expect: 201);
        await _node.Post("/v1/vms", Vm("qga-mute", SignalGuest.Cmdline("x", silent: true, agent: true), "20s", "guest-agent"), expect: 201);
        await _node.Post("/v1/vms/qga-1/start", expect: 202);
        await _node.Post("/v1/vms/qga-mute/start", expect: 202);

        var ready = await WaitFor("qga-1", v => v["ready"]!.GetValue<bool>(), "ready");
        Assert.Equal("guest-agent: answered guest-ping", ready["readyEvidence"]!.GetValue<string>());
        Assert.Contains("\"return\":{}", _qemu.Virsh("qemu-agent-command", "qga-1", "{\"execute\":\"guest-ping\"}").Out); // the agent is really there

        var mute = await WaitFor("qga-mute", v => v["lastError"] is not null, "reported not ready");
        Assert.Equal("not ready within 20 s of its start: qemu-guest-agent in the guest did not answer guest-ping", mute["lastError"]!.GetValue<string>());
        Assert.Equal(("running", false), (mute["state"]!.GetValue<string>(), mute["ready"]!.GetValue<bool>()));
    }
}
