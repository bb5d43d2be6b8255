namespace Virt.Tests.Support;

/// <summary>
/// A tiny real guest for QEMU (see /work/shared/TINYGUEST.md): Debian's kernel booted directly with a busybox
/// initramfs whose /init prints "tinyguest: init started", then "tinyguest: tick N" every second on the serial
/// console, and echoes back each line typed there as "tinyguest: got LINE". Built into <paramref name="directory"/>
/// (mode 755, so QEMU's user can read it) in well under a second.
/// </summary>
public sealed class TinyGuest
{
    private TinyGuest(string kernel, string initrd) => (Kernel, Initrd) = (kernel, initrd);

    public string Kernel { get; }

    public string Initrd { get; }

    public static string? KernelImage => System.IO.Directory.Exists("/boot") ? System.IO.Directory.GetFiles("/boot", "vmlinuz-*").Order().LastOrDefault() : null;

    public static bool Available => KernelImage is not null && File.Exists("/usr/bin/busybox") && File.Exists("/usr/bin/cpio");

    public static async Task<TinyGuest> Build(string directory)
    {
        var root = Path.Combine(directory, "root");
        System.IO.Directory.CreateDirectory(root);
        var init = """
            #!/bin/sh
            /bin/busybox mount -t proc proc /proc
            echo "tinyguest: init started"
            ( i=0; while :; do i=$((i+1)); echo "tinyguest: tick $i"; /bin/busybox sleep 1; done ) &
            while read -r line; do echo "tinyguest: got $line"; done
            while :; do /bin/busybox sleep 86400; done
            """;
        var script = $"""
            set -e
            cd {root}
            mkdir -p bin dev proc
            cp /usr/bin/busybox bin/busybox
            ln -sf busybox bin/sh
            [ -e dev/console ] || mknod -m 600 dev/console c 5 1
            [ -e dev/null ] || mknod -m 666 dev/null c 1 3
            cat > init <<'INIT'
            {init}
            INIT
            chmod 755 init
            find . | cpio -o -H newc 2>/dev/null | gzip > {directory}/initramfs.cpio.gz
            cp {KernelImage} {directory}/vmlinuz
            chmod 644 {directory}/initramfs.cpio.gz {directory}/vmlinuz
            chmod 755 {directory}
            """;
        using var build = ChildProcess.Start("sh", ["-c", script]);
        var exit = await build.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"building the tiny guest failed: {build.Stderr}");
        return new TinyGuest(Path.Combine(directory, "vmlinuz"), Path.Combine(directory, "initramfs.cpio.gz"));
    }
}
