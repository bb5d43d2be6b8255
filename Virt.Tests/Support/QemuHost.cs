namespace Virt.Tests.Support;

/// <summary>
/// A private libvirtd with the QEMU driver (software emulation), started by the test in its own mount namespace:
/// its /run, /etc/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt are directories of the test, so it never
/// meets a system libvirtd or another test's. Reached through its socket (<see cref="Uri"/>). Dispose destroys its
/// domains and stops it. Needs root, libvirt-daemon-system, libvirt-daemon-driver-qemu and qemu-system-x86
/// (scripts/test installs them).
/// </summary>
public sealed class QemuHost : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("virt-qemu");
    private ChildProcess? _daemon;

    public string Uri => $"qemu:///system?socket={_dir.File("run/libvirt-sock")}";

    public string Directory => _dir.Path;

    public static bool Available => File.Exists("/usr/sbin/libvirtd") && File.Exists("/usr/bin/qemu-system-x86_64") && Environment.UserName == "root";

    public async Task Start()
    {
        foreach (var d in new[] { "run", "lib", "log", "cache", "etc" })
            System.IO.Directory.CreateDirectory(_dir.File(d));
        CopyTree("/etc/libvirt", _dir.File("etc")); // its own configuration, so domain definitions stay here too
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        var script = _dir.File("libvirtd.sh");
        File.WriteAllText(script, $"""
            set -e
            mount -t tmpfs tmpfs /run
            mkdir -p /run/libvirt /run/lock
            mount --bind {_dir.File("run")} /run/libvirt
            mount --bind {_dir.File("lib")} /var/lib/libvirt
            mount --bind {_dir.File("log")} /var/log/libvirt
            mount --bind {_dir.File("cache")} /var/cache/libvirt
            mount --bind {_dir.File("etc")} /etc/libvirt
            virtlogd & LOGD=$!
            RUN=1
            trap 'RUN=0; kill $LIBVIRTD 2>/dev/null || true' TERM
            trap 'kill $LIBVIRTD 2>/dev/null || true' USR1
            while [ $RUN = 1 ]; do
              libvirtd & LIBVIRTD=$!
              echo $LIBVIRTD > {_dir.File("libvirtd.pid")}
              while kill -0 $LIBVIRTD 2>/dev/null; do wait $LIBVIRTD || true; done
            done
            kill $LOGD
            exit 0
            """);
        _daemon = ChildProcess.Start("unshare", ["-m", "--propagation", "private", "sh", script]);
        await Eventually.Until(() => Task.FromResult(File.Exists(_dir.File("run/libvirt-sock")) && Virsh("list").Exit == 0), ok => ok, "the private libvirtd answers");
    }

    /// <summary>
    /// Stops libvirtd (SIGTERM) and starts it again, as a package upgrade or <c>systemctl restart libvirtd</c> does:
    /// the QEMU processes of running domains live on, and the new libvirtd finds them. Returns once it answers.
    /// </summary>
    public async Task RestartDaemon()
    {
        var pidFile = _dir.File("libvirtd.pid");
        var before = File.ReadAllText(pidFile).Trim();
        _daemon!.Signal(Posix.SigUsr1); // the script stops this libvirtd and starts another
        await Eventually.Until(() => Task.FromResult(File.ReadAllText(pidFile).Trim() != before && Virsh("list").Exit == 0), ok => ok, "a new libvirtd answers", 60);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var dir in System.IO.Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            System.IO.Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in System.IO.Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            if (new FileInfo(file).LinkTarget is null)
                File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    /// <summary>Runs virsh against this libvirtd.</summary>
    public (int Exit, string Out) Virsh(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("virsh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Uri);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    public async ValueTask DisposeAsync()
    {
        if (_daemon is { HasExited: false } daemon)
        {
            foreach (var name in Virsh("list", "--name").Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                Virsh("destroy", name); // QEMU outlives libvirtd otherwise
            daemon.Signal(Posix.SigTerm);
            await daemon.WaitForExit(TimeSpan.FromSeconds(20));
        }

        _daemon?.Dispose();
        _dir.Dispose();
    }
}
