using System.Net;
using System.Text;
using Virt.Tests.Support;

namespace Virt.Tests.Shell;

/// <summary>
/// <c>virt vm console</c> against a node the VM does not run on: two real virt-node processes in one cluster (one
/// PostgreSQL journal), hv-1 on a private libvirtd with QEMU running a tiny guest, hv-2 on libvirt's test driver.
/// The real virt binary asks hv-2, which carries the WebSocket to hv-1's API; what the guest prints and what is typed
/// pass through, Ctrl-] leaves and frees the console on hv-1, and the guest's console closing on hv-1 closes the shell's.
/// </summary>
public sealed class ConsoleProxyTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("virt-console-proxy");
    private readonly QemuHost _qemu = new();
    private NodeCluster _cluster = null!;
    private TinyGuest _guest = null!;

    public async Task InitializeAsync()
    {
        Assert.True(QemuHost.Available && TinyGuest.Available, "needs root, libvirtd, qemu-system-x86, busybox-static, cpio and a kernel in /boot (scripts/test installs them)");
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        _guest = await TinyGuest.Build(_dir.File("guest"));
        await _qemu.Start();
        var postgres = await (await PostgresServer.Shared).CreateDatabase("console");
        _cluster = await NodeCluster.Start(postgres, [(2, 2048), (2, 2048)],
            i => i == 0 ? [$"virt.libvirt.uri={_qemu.Uri}", "virt.libvirt.domain-type=qemu", "virt.vm.start-timeout=60s"] : []);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _qemu.DisposeAsync();
        _dir.Dispose();
    }

    private static async Task Send(VirtNodeProcess node, string path, object? body, HttpStatusCode expect)
    {
        using var content = body is null ? null : new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await node.Http.PostAsync(path, content);
        Assert.True(response.StatusCode == expect, $"POST {path}: expected {(int)expect}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private ChildProcess Console(VirtNodeProcess node) =>
        ChildProcess.Start(ChildProcess.Dotnet, [Binaries.Virt, "vm", "console", "tiny-1"], new Dictionary<string, string> { ["VIRT_API"] = node.Address }, input: true);

    [Fact]
    public async Task A_node_that_does_not_run_the_vm_carries_its_console_both_ways_and_either_side_closing_closes_the_other()
    {
        var (hv1, hv2) = (_cluster[0], _cluster[1]);
        await Send(hv2, "/v1/vms", new { name = "tiny-1", vcpus = 1, memory = "128MiB", restart = "never", kernel = new { path = _guest.Kernel, initrd = _guest.Initrd, cmdline = "console=ttyS0 quiet" } }, HttpStatusCode.Created);
        await Send(hv2, "/v1/vms/tiny-1/start?node=hv-1", null, HttpStatusCode.Accepted);
        await Eventually.Until(() => hv2.Get("/v1/vms/tiny-1"), v => v["state"]!.GetValue<string>() == "running", "tiny-1 is running (asked on hv-2)", 90);
        Assert.Equal("hv-1", (await hv2.Get("/v1/vms/tiny-1"))["node"]!.GetValue<string>());
        Assert.Contains("running", _qemu.Virsh("domstate", "tiny-1").Out); // QEMU on hv-1's libvirtd runs it, not hv-2's test driver

        using (var virt = Console(hv2))
        {
            await virt.WaitForLine(l => l.Contains("tinyguest: tick", StringComparison.Ordinal), TimeSpan.FromSeconds(60)); // hv-1's guest, through hv-2
            virt.Write("through-hv2\r");
            await virt.WaitForLine(l => l.Contains("tinyguest: got through-hv2", StringComparison.Ordinal), TimeSpan.FromSeconds(30)); // typed on hv-2, read by the guest on hv-1
            virt.Write("\u001d");
            Assert.Equal(0, await virt.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Contains("left the console of tiny-1", virt.Stderr);
        }

        // Leaving closed hv-1's console too: libvirt gives a console to one client at a time, and a new one gets it,
        // on hv-1 directly and again through hv-2; this time the guest stopping on hv-1 ends the shell's session.
        using (var direct = Console(hv1))
        {
            await direct.WaitForLine(l => l.Contains("tinyguest: tick", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            direct.Write("\u001d");
            Assert.Equal(0, await direct.WaitForExit(TimeSpan.FromSeconds(20)));
        }

        using (var virt = Console(hv2))
        {
            await virt.WaitForLine(l => l.Contains("tinyguest: tick", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
            await Send(hv1, "/v1/vms/tiny-1/stop?force=true", null, HttpStatusCode.Accepted);
            Assert.Equal(0, await virt.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Contains("the console of tiny-1 was closed by the node", virt.Stderr);
        }

        await Eventually.Until(() => hv2.Get("/v1/vms/tiny-1"), v => v["state"]!.GetValue<string>() == "stopped", "tiny-1 is stopped", 60);
        var (exit, _, stderr) = await VirtCli.Against(hv2.Address, "vm", "console", "tiny-1");
        Assert.Equal(1, exit);
        Assert.Contains("it is stopped; its console needs it running", stderr);
    }
}
