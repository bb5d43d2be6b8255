using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>
/// <c>virt vm console</c> against a real QEMU guest: a whole node on a private libvirtd with the QEMU driver, a tiny
/// guest that prints to its serial port, and the real virt binary reading and typing on the console over the
/// node's WebSocket. vm sysrq and vm reset are checked there too, by what the guest's kernel and init print.
/// </summary>
public sealed class ConsoleTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-console");
    private readonly QemuHost _qemu = new();
    private InProcessNode _node = null!;
    private TinyGuest _guest = null!;

    public async Task InitializeAsync()
    {
        Assert.True(QemuHost.Available && TinyGuest.Available, "needs root, libvirtd, qemu-system-x86, busybox-static, cpio and a kernel in /boot (scripts/test installs them)");
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        _guest = await TinyGuest.Build(_dir.File("guest"));
        await _qemu.Start();
        _node = new InProcessNode(_dir.File("node"), _qemu.Uri, "virt.libvirt.domain-type=qemu", "virt.vm.start-timeout=60s");
        await _node.Start();
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _qemu.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task The_console_shows_the_guests_serial_output_takes_its_input_sysrq_and_reset_and_ctrl_bracket_leaves()
    {
        await _node.Post("/v1/vms", new { name = "tiny-1", vcpus = 1, memory = "128MiB", restart = "never", kernel = new { path = _guest.Kernel, initrd = _guest.Initrd, cmdline = "console=ttyS0 quiet" } }, expect: 201);
        await _node.Post("/v1/vms/tiny-1/start", expect: 202);
        await _node.WaitForState("tiny-1", "running");
        Assert.Contains("running", _qemu.Virsh("domstate", "tiny-1").Out); // QEMU itself runs it

        using var virt = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.Virt, "vm", "console", "tiny-1"], new Dictionary<string, string> { ["VIRT_API"] = _node.Http.BaseAddress!.Authority }, input: true);
        await virt.WaitForLine(l => l.Contains("tinyguest: tick", StringComparison.Ordinal), TimeSpan.FromSeconds(60)); // the guest's serial port, live
        virt.Write("hello-console\r");
        await virt.WaitForLine(l => l.Contains("tinyguest: got hello-console", StringComparison.Ordinal), TimeSpan.FromSeconds(30)); // what was typed reached the guest

        // vm sysrq and vm reset through the same real guest: their effects show on its console.
        var (exit, _, stderr) = await VirtCli.Against(_node.Http.BaseAddress!.Authority, "vm", "sysrq", "tiny-1", "h");
        Assert.True(exit == 0, stderr);
        await virt.WaitForLine(l => l.Contains("sysrq: HELP", StringComparison.Ordinal), TimeSpan.FromSeconds(30)); // the guest kernel got Alt+SysRq+H
        (exit, _, stderr) = await VirtCli.Against(_node.Http.BaseAddress!.Authority, "vm", "reset", "tiny-1");
        Assert.True(exit == 0, stderr);
        await virt.WaitForLine(l => l.Contains("tinyguest: init started", StringComparison.Ordinal), TimeSpan.FromSeconds(60)); // booted again
        Assert.Equal("running", (await _node.Get("/v1/vms/tiny-1"))["state"]!.GetValue<string>());

        virt.Write("\u001d");
        Assert.Equal(0, await virt.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Contains("left the console of tiny-1", virt.Stderr);

        await _node.Post("/v1/vms/tiny-1/stop?force=true", expect: 202);
        await _node.WaitForState("tiny-1", "stopped");
        using var refused = ChildProcess.Start(ChildProcess.Dotnet, [Binaries.Virt, "vm", "console", "tiny-1"], new Dictionary<string, string> { ["VIRT_API"] = _node.Http.BaseAddress!.Authority });
        Assert.Equal(1, await refused.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("it is stopped; its console needs it running", refused.Stderr);
    }
}
