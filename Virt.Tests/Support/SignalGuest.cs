namespace Virt.Tests.Support;

/// <summary>
/// A tiny real guest that speaks the ready protocol (see /work/shared/TINYGUEST.md and README "The ready signal"):
/// Debian's kernel booted directly with a busybox initramfs carrying the virtio console modules. Its /init finds the
/// virtio-serial port named startup_signal (there is no udev: it links /dev/virtio-ports/startup_signal itself),
/// writes <c>ready ID</c> with the ID from <c>virt_ready_id=</c> on the kernel command line, and waits for
/// <c>ack ID</c>; then it prints "signalguest: acked ID" every second on its serial console. With
/// <c>virt_ready_silent=1</c> it sends nothing and prints "signalguest: silent" instead. Built with the guest agent,
/// <c>virt_ready_agent=1</c> starts qemu-guest-agent on its port instead of the handshake (unless silent).
/// </summary>
public sealed class SignalGuest
{
    private static readonly string[] Modules = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_console"];

    private SignalGuest(string kernel, string initrd) => (Kernel, Initrd) = (kernel, initrd);

    public string Kernel { get; }

    public string Initrd { get; }

    public static bool Available => TinyGuest.Available && File.Exists("/usr/sbin/modprobe") && Modules.All(m => ModulePath(m) is not null);

    private static string KernelVersion => Path.GetFileName(TinyGuest.KernelImage!)["vmlinuz-".Length..];

    private static string? ModulePath(string module)
    {
        if (TinyGuest.KernelImage is null)
            return null;
        var dir = $"/lib/modules/{KernelVersion}/kernel/drivers";
        return new[] { $"{dir}/virtio/{module}.ko", $"{dir}/char/{module}.ko" }.FirstOrDefault(File.Exists);
    }

    /// <summary>The kernel command line of a guest that sends <c>ready <paramref name="id"/></c> (or, silent, nothing).</summary>
    public static string Cmdline(string id, bool silent = false, bool agent = false) =>
        $"console=ttyS0 quiet virt_ready_id={id}" + (silent ? " virt_ready_silent=1" : "") + (agent ? " virt_ready_agent=1" : "");

    public static bool AgentAvailable => File.Exists("/usr/sbin/qemu-ga") && File.Exists("/usr/bin/ldd");

    /// <param name="withAgent">Put qemu-guest-agent (and the libraries it links) in the initramfs.</param>
    public static async Task<SignalGuest> Build(string directory, bool withAgent = false)
    {
        var root = Path.Combine(directory, "root");
        System.IO.Directory.CreateDirectory(root);
        var init = """
            #!/bin/sh
            export PATH=/bin
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev
            exec </dev/console >/dev/console 2>&1
            echo "signalguest: init started"
            for m in MODULES; do insmod /modules/$m.ko; done
            ID=; SILENT=; AGENT=
            for w in $(cat /proc/cmdline); do
              case "$w" in virt_ready_id=*) ID="${w#virt_ready_id=}";; virt_ready_silent=1) SILENT=1;; virt_ready_agent=1) AGENT=1;; esac
            done
            WANT=startup_signal; [ -n "$AGENT" ] && WANT=org.qemu.guest_agent.0
            P=; i=0
            while [ -z "$P" ] && [ $i -lt 100 ]; do
              for n in /sys/class/virtio-ports/*; do
                [ -f "$n/name" ] && [ "$(cat "$n/name")" = "$WANT" ] && P="/dev/virtio-ports/$WANT"
              done
              [ -z "$P" ] && sleep 0.1; i=$((i+1))
            done
            mkdir -p /dev/virtio-ports
            for n in /sys/class/virtio-ports/*; do [ -f "$n/name" ] && ln -sf "/dev/$(basename "$n")" "/dev/virtio-ports/$(cat "$n/name")"; done
            echo "signalguest: port ${P:-missing}"
            STATE=silent
            if [ -n "$AGENT" ] && [ -z "$SILENT" ] && [ -n "$P" ]; then
              mkdir -p /run
              qemu-ga -m virtio-serial -p "$P" -t /run &
              STATE="agent started"
            elif [ -z "$SILENT" ] && [ -n "$P" ]; then
              while :; do
                exec 3<>/dev/virtio-ports/startup_signal
                echo "ready $ID" >&3
                if read -r line <&3; then [ "$line" = "ack $ID" ] && break; fi
                exec 3>&-; sleep 0.2
              done
              STATE="acked $ID"
            fi
            i=0; while :; do i=$((i+1)); echo "signalguest: $STATE (tick $i)"; sleep 1; done
            """.Replace("MODULES", string.Join(' ', Modules));
        var copies = string.Join('\n', Modules.Select(m => $"cp {ModulePath(m)} modules/"));
        if (withAgent)
            copies += "\ncp /usr/sbin/qemu-ga bin/qemu-ga\nfor f in $(ldd /usr/sbin/qemu-ga | grep -o '/[^ ]*'); do mkdir -p \".$(dirname \"$f\")\"; cp -L \"$f\" \".$f\"; done";
        var script = $"""
            set -e
            cd {root}
            mkdir -p bin dev proc sys modules
            cp /usr/bin/busybox bin/busybox
            for a in $(bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "bin/$a"; done
            {copies}
            [ -e dev/console ] || mknod -m 600 dev/console c 5 1
            [ -e dev/null ] || mknod -m 666 dev/null c 1 3
            cat > init <<'INIT'
            {init}
            INIT
            chmod 755 init
            find . | cpio -o -H newc 2>/dev/null | gzip > {directory}/initramfs.cpio.gz
            cp {TinyGuest.KernelImage} {directory}/vmlinuz
            chmod 644 {directory}/initramfs.cpio.gz {directory}/vmlinuz
            chmod 755 {directory}
            """;
        using var build = ChildProcess.Start("sh", ["-c", script]);
        var exit = await build.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"building the signal guest failed: {build.Stderr}");
        return new SignalGuest(Path.Combine(directory, "vmlinuz"), Path.Combine(directory, "initramfs.cpio.gz"));
    }
}
