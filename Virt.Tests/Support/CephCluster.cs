using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Virt.Node.Rbd;

namespace Virt.Tests.Support;

/// <summary>
/// A real, tiny Ceph for the tests (Debian's ceph-mon, ceph-osd, ceph-common): one monitor on a free port of
/// 127.0.0.1 (msgr v2 only) and one memstore OSD, with cephx, every file under one directory of its own; up in about
/// a second. One cluster per test process, started on first use and stopped (OSD first, then the monitor) when the
/// process exits; each test class takes pools and image names of its own.
/// </summary>
internal sealed class CephCluster
{
    private static readonly Lazy<Task<CephCluster>> Started = new(() => Start());
    private static int _pools;
    private ChildProcess? _mon;
    private ChildProcess? _osd;
    private int _reaper;

    private CephCluster(string directory, int monPort)
    {
        Directory = directory;
        MonHost = $"v2:127.0.0.1:{monPort}";
    }

    /// <summary>The cluster of this test process.</summary>
    public static Task<CephCluster> Shared => Started.Value;

    public string Directory { get; }

    public string ConfPath => Path.Combine(Directory, "ceph.conf");

    /// <summary>Holds the keys of mon., client.admin and osd.0.</summary>
    public string KeyringPath => Path.Combine(Directory, "keyring");

    /// <summary><c>v2:127.0.0.1:PORT</c>.</summary>
    public string MonHost { get; }

    /// <summary>client.admin's base64 key.</summary>
    public string AdminKey { get; private set; } = "";

    /// <summary>How the binding connects as client.admin: through this cluster's ceph.conf and keyring.</summary>
    public CephClientOptions AdminOptions => new() { ConfPath = ConfPath, Keyring = KeyringPath, User = "admin" };

    /// <summary>A new client (its own instance id and address) connected as client.admin.</summary>
    public RadosCluster Connect() => RadosCluster.Connect(AdminOptions);

    /// <summary>
    /// Starts a cluster in a new directory. <paramref name="memstoreBytes"/> bounds what the OSD can hold (in memory;
    /// only written data takes room).
    /// </summary>
    public static async Task<CephCluster> Start(long memstoreBytes = 2L << 30)
    {
        foreach (var tool in new[] { "ceph-mon", "ceph-osd", "ceph-authtool", "monmaptool", "ceph", "rbd" })
        {
            if (!File.Exists(Path.Combine("/usr/bin", tool)))
                throw new InvalidOperationException($"{tool} is not installed: apt-get install -y --no-install-recommends ceph-mon ceph-osd ceph-common librbd1 librados2 (scripts/test does this)");
        }

        var directory = Path.Combine(Path.GetTempPath(), $"virt-ceph-{Environment.ProcessId}-{Guid.NewGuid():N}"[..36]);
        var cluster = new CephCluster(directory, FreePort());
        try
        {
            await cluster.Bootstrap(memstoreBytes);
        }
        catch
        {
            cluster.Stop();
            throw;
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
        return cluster;
    }

    /// <summary>A new pool of this cluster, initialised for RBD; its name starts with <paramref name="prefix"/>.</summary>
    public async Task<string> CreatePool(string prefix)
    {
        var name = $"{prefix}-{Interlocked.Increment(ref _pools)}";
        await CreatePoolNamed(name);
        return name;
    }

    /// <summary>Runs the ceph CLI against this cluster: an independent reader of what the binding did.</summary>
    public Task<string> Ceph(params string[] args) => Run("ceph", ["--conf", ConfPath, .. args]);

    /// <summary>Runs the rbd CLI against this cluster: an independent reader of what the binding did.</summary>
    public Task<string> Rbd(params string[] args) => Run("rbd", ["--conf", ConfPath, .. args]);

    /// <summary>
    /// Stops the OSD, then the monitor (the other way round the OSD waits for a monitor that is gone), then removes the
    /// directory. Best effort: the reaper finishes the job if this process dies first.
    /// </summary>
    public void Stop()
    {
        foreach (var daemon in new[] { _osd, _mon })
        {
            if (daemon is null)
                continue;
            try
            {
                daemon.Signal(Posix.SigTerm);
                daemon.WaitForExit(TimeSpan.FromSeconds(5)).Wait();
            }
            catch (Exception)
            {
                // It did not stop in time: SIGKILL below.
            }

            daemon.Dispose();
        }

        _osd = _mon = null;
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            return; // the reaper will
        }

        if (_reaper > 0)
            _ = Posix.Kill(-_reaper, 9); // the reaper's process group: nothing is left for it to do
        _reaper = 0;
    }

    private async Task Bootstrap(long memstoreBytes)
    {
        foreach (var sub in new[] { "mon", "osd", "run", "log" })
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, sub));
        var fsid = Guid.NewGuid().ToString();
        await File.WriteAllTextAsync(ConfPath, Conf(fsid, memstoreBytes));
        await Run("ceph-authtool", "--create-keyring", KeyringPath, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *");
        await Run("ceph-authtool", KeyringPath, "--gen-key", "-n", "client.admin", "--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *");
        await Run("ceph-authtool", KeyringPath, "--gen-key", "-n", "osd.0", "--cap", "mon", "allow profile osd", "--cap", "osd", "allow *", "--cap", "mgr", "allow profile osd");
        AdminKey = (await Run("ceph-authtool", KeyringPath, "-n", "client.admin", "--print-key")).Trim();
        var monmap = Path.Combine(Directory, "monmap");
        await Run("monmaptool", "--create", "--fsid", fsid, "--addv", "a", $"[{MonHost}]", monmap);
        await Run("ceph-mon", "--conf", ConfPath, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", KeyringPath);
        _mon = ChildProcess.Start("ceph-mon", ["--conf", ConfPath, "-f", "-i", "a"]);
        var osdUuid = Guid.NewGuid().ToString();
        await Ceph("osd", "new", osdUuid, "0"); // waits for the monitor to be up
        await Run("ceph-osd", "--conf", ConfPath, "-i", "0", "--mkfs", "--osd-uuid", osdUuid, "--keyring", KeyringPath);
        _osd = ChildProcess.Start("ceph-osd", ["--conf", ConfPath, "-f", "-i", "0", "--keyring", KeyringPath]);
        StartReaper(_mon.Id, _osd.Id);
        await CreatePoolNamed("rbd");
    }

    /// <summary>
    /// The test host is often killed before its exit handlers finish (vstest does not wait long), and a killed process
    /// runs none: a detached shell waits for this process to end, then stops the OSD, the monitor, and removes the
    /// directory, so no daemon outlives the test run.
    /// </summary>
    private void StartReaper(int monPid, int osdPid)
    {
        const string script = """
            exec </dev/null >/dev/null 2>&1
            tail --pid="$1" -f /dev/null
            for pid in "$4" "$3"; do
              grep -qF "$2" "/proc/$pid/cmdline" 2>/dev/null || continue # gone, or the number is someone else's now
              kill -TERM "$pid"; timeout 10 tail --pid="$pid" -f /dev/null || kill -KILL "$pid"
            done
            rm -rf "$2"
            """;
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "bash", "-c", script, "ceph-reaper", Environment.ProcessId.ToString(), Directory, monPid.ToString(), osdPid.ToString() })
            info.ArgumentList.Add(a);
        using var reaper = Process.Start(info)!;
        _reaper = reaper.Id; // setsid execs: this is the shell, leader of its own process group
    }

    private async Task CreatePoolNamed(string name)
    {
        await Ceph("osd", "pool", "create", name, "8", "8");
        await Rbd("pool", "init", name); // returns once the pool's placement groups serve I/O
    }

    private string Conf(string fsid, long memstoreBytes) => $"""
        [global]
        fsid = {fsid}
        mon host = {MonHost}
        public addr = 127.0.0.1
        ms bind msgr1 = false
        ms bind ipv6 = false
        auth cluster required = cephx
        auth service required = cephx
        auth client required = cephx
        keyring = {KeyringPath}
        run dir = {Directory}/run
        log file = {Directory}/log/$name.log
        osd objectstore = memstore
        memstore device bytes = {memstoreBytes}
        osd pool default size = 1
        osd pool default min size = 1
        mon allow pool size one = true
        osd crush chooseleaf type = 0
        osd pool default pg autoscale mode = off
        mon warn on pool no redundancy = false
        mon mgr mkfs grace = 86400
        paxos propose interval = 0.05
        [mon]
        mon data = {Directory}/mon
        admin socket = {Directory}/run/mon.asok
        [osd]
        osd data = {Directory}/osd
        admin socket = {Directory}/run/osd.asok
        [client]
        log file = /dev/null

        """; // Ceph's parser wants the last line ended

    private static Task<string> Run(string program, params string[] args) => ChildProcess.Output(program, args, TimeSpan.FromSeconds(60));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
