using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Virt.Node.Rbd;

/// <summary>
/// One connected Ceph client (a rados_t): its identity and addresses, the OSD blocklist, and the pools it opens.
/// Each connection is a distinct client to Ceph, with its own address; blocklisting that address fences it alone.
/// </summary>
/// <remarks>
/// Synchronous on purpose: every call blocks on the network (a monitor command takes milliseconds, an export takes
/// minutes) and librados handles are thread-safe, so the caller picks the thread: short calls on the node agent's
/// worker (as <c>LibvirtWorker</c> does for libvirt), an export or import on a thread of its own. Never call from an
/// actor's thread. A single async wrapper with one dedicated thread would queue a lock check behind a 5-minute export.
/// </remarks>
internal sealed class RadosCluster : IDisposable
{
    private readonly ClusterHandle _handle;

    private RadosCluster(ClusterHandle handle, CephClientOptions options)
    {
        _handle = handle;
        Options = options;
        InstanceId = RadosNative.rados_get_instance_id(handle);
    }

    public CephClientOptions Options { get; }

    /// <summary>The global id the monitors gave this connection.</summary>
    public ulong InstanceId { get; }

    /// <summary>How lock holders and watchers name this client: <c>client.4123</c>.</summary>
    public string ClientName => $"client.{InstanceId}";

    /// <summary>
    /// Connects, or throws an <see cref="RbdException"/> that says what to fix. Bad options are reported before
    /// anything is sent.
    /// </summary>
    public static RadosCluster Connect(CephClientOptions options)
    {
        if (options.Problem() is { } problem)
            throw new RbdException(CephErrno.EINVAL, "connect", null, problem);
        var created = RadosNative.rados_create2(out var raw, "ceph", options.EntityName, 0);
        if (created < 0)
            throw RbdException.From(created, $"create a Ceph client for {options.EntityName}");
        var handle = new ClusterHandle(raw);
        try
        {
            Configure(raw, options);
            var connected = RadosNative.rados_connect(raw);
            if (connected < 0)
                throw ConnectFailure(connected, options);
            return new RadosCluster(handle, options);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The addresses this client talks to the OSDs from (rados_getaddrs), <c>127.0.0.1:0/3713263485</c>: what to
    /// blocklist to fence exactly this client.
    /// </summary>
    public unsafe IReadOnlyList<string> Addresses()
    {
        Check(RadosNative.rados_getaddrs(_handle, out var raw), "read the client's addresses");
        try
        {
            return CephAddress.ParseVector(Marshal.PtrToStringUTF8(raw) ?? "");
        }
        finally
        {
            NativeMemory.Free((void*)raw);
        }
    }

    /// <summary>
    /// Blocklists <paramref name="address"/> on every OSD: that client's operations fail from now on with -108.
    /// <c>IP:0/0</c> blocklists every client of that IP. Returns once this client has the OSD map with the entry.
    /// </summary>
    /// <param name="expiry">How long the entry lasts; null for Ceph's default (1 hour).</param>
    public void Blocklist(string address, TimeSpan? expiry = null)
    {
        var seconds = expiry is { } e ? (uint)Math.Max(1, Math.Ceiling(e.TotalSeconds)) : 0u;
        var result = RadosNative.rados_blocklist_add(_handle, address, seconds);
        if (result < 0)
            throw RbdException.From(result, $"blocklist {address}", hint: result == -CephErrno.EINVAL
                ? "give a client address as Ceph prints it, like 10.0.0.5:0/3713263485 (one client) or 10.0.0.5:0/0 (every client of that IP)"
                : null);
    }

    /// <summary>Removes <paramref name="address"/> from the blocklist. Removing an address that is not listed is not an error.</summary>
    public void Unblocklist(string address) =>
        MonCommand($"unblocklist {address}", new { prefix = "osd blocklist", blocklistop = "rm", addr = address });

    /// <summary>The cluster's blocklist as the monitors hold it now, single addresses and ranges.</summary>
    public IReadOnlyList<BlocklistEntry> ListBlocklist() =>
        BlocklistEntry.Parse(MonCommand("list the blocklist", new { prefix = "osd blocklist ls", format = "json" }));

    /// <summary>Sends a command to the monitors (what the <c>ceph</c> CLI sends) and returns its output.</summary>
    public unsafe string MonCommand(string what, object command)
    {
        var json = JsonSerializer.Serialize(command);
        var utf8 = Marshal.StringToCoTaskMemUTF8(json);
        try
        {
            var commands = stackalloc nint[1];
            commands[0] = utf8;
            var result = RadosNative.rados_mon_command(_handle, commands, 1, null, 0, out var outBuffer, out var outLength, out var status, out var statusLength);
            var output = Take(outBuffer, outLength);
            var statusText = Take(status, statusLength);
            if (result < 0)
                throw RbdException.From(result, what, hint: statusText.Length > 0 ? $"Ceph says: {statusText}" : null);
            return output;
        }
        finally
        {
            Marshal.FreeCoTaskMem(utf8);
        }
    }

    /// <summary>Opens a pool for image operations.</summary>
    public RbdPool OpenPool(string name)
    {
        var result = RadosNative.rados_ioctx_create(_handle, name, out var raw);
        if (result < 0)
            throw RbdException.From(result, $"open pool {name}", hint: result == -CephErrno.ENOENT
                ? $"there is no pool '{name}' in this cluster: create it (ceph osd pool create {name}; rbd pool init {name}) or check the name"
                : null);
        return new RbdPool(new IoContextHandle(raw, _handle), name);
    }

    public void Dispose() => _handle.Dispose();

    private static void Configure(nint raw, CephClientOptions options)
    {
        if (options.ConfPath is { } conf)
            Set(RadosNative.rados_conf_read_file(raw, conf), $"read {conf}", "check that it is a valid ceph.conf");
        if (options.MonHost is { } monHost)
            Set(RadosNative.rados_conf_set(raw, "mon_host", monHost), "set mon host", "give monitors as v2:IP:PORT[,v2:IP:PORT...]");
        if (options.Keyring is { } keyring)
            Set(RadosNative.rados_conf_set(raw, "keyring", keyring), "set keyring", null);
        if (options.Key is { } key)
            Set(RadosNative.rados_conf_set(raw, "key", key), "set key", "give the base64 key as ceph auth get-key prints it");
        Set(RadosNative.rados_conf_set(raw, "client_mount_timeout", Seconds(options.ConnectTimeout)), "set the connect timeout", null);
        Set(RadosNative.rados_conf_set(raw, "rados_mon_op_timeout", Seconds(options.MonitorTimeout)), "set the monitor timeout", null);
        // Without librbd's cache a write returns once the OSD has it, so its failure (a fence: -108) comes from that
        // call; with the cache it is acknowledged at once and the error comes from some later flush. QEMU has its own.
        Set(RadosNative.rados_conf_set(raw, "rbd_cache", "false"), "turn librbd's cache off", null);
        foreach (var (name, value) in options.Settings)
        {
            var result = RadosNative.rados_conf_set(raw, name, value);
            Set(result, $"set Ceph option {name}={value}", result == -CephErrno.ENOENT ? $"Ceph has no option '{name}': check its spelling" : "check the value");
        }
    }

    private static void Set(int result, string what, string? hint)
    {
        if (result < 0)
            throw RbdException.From(result, what, hint: hint);
    }

    private static string Seconds(TimeSpan t) => Math.Max(1, Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static RbdException ConnectFailure(int result, CephClientOptions options)
    {
        var who = $"connect to Ceph as {options.EntityName} via {options.Describe()}";
        var hint = -result switch
        {
            CephErrno.ENOENT => "no key was found for that user: give its keyring file or key",
            CephErrno.EACCES or CephErrno.EPERM when options.Key is null && options.Keyring is null && options.ConfPath is null =>
                "no key was given: give the user's keyring file or key",
            CephErrno.EACCES or CephErrno.EPERM => $"the monitors refused the key: check that it is {options.EntityName}'s key (ceph auth get {options.EntityName})",
            CephErrno.ETIMEDOUT => $"no monitor answered within {options.ConnectTimeout.TotalSeconds:0} s: check the monitor addresses and that the monitors run",
            CephErrno.EINVAL => "the configuration is invalid: check the mon host and the key",
            _ => null,
        };
        return RbdException.From(result, who, hint: hint);
    }

    private static void Check(int result, string what)
    {
        if (result < 0)
            throw RbdException.From(result, what);
    }

    private static string Take(nint buffer, nuint length)
    {
        if (buffer == 0)
            return "";
        try
        {
            return Marshal.PtrToStringUTF8(buffer, (int)length);
        }
        finally
        {
            RadosNative.rados_buffer_free(buffer);
        }
    }
}
