namespace Virt.Node.Rbd;

/// <summary>
/// How to reach a Ceph cluster: a ceph.conf, or monitor addresses; a Ceph user; and its keyring file or its key.
/// Anything left null comes from the ceph.conf (when given) or Ceph's defaults.
/// </summary>
internal sealed record CephClientOptions
{
    /// <summary>Path of a ceph.conf to read. Without it nothing is read from /etc/ceph: <see cref="MonHost"/> is then required.</summary>
    public string? ConfPath { get; init; }

    /// <summary>Monitors, as Ceph's <c>mon host</c>: <c>v2:10.0.0.1:3300,v2:10.0.0.2:3300</c>. Ports other than 3300/6789 need the v2: prefix.</summary>
    public string? MonHost { get; init; }

    /// <summary>The Ceph user, <c>admin</c> or <c>client.admin</c>.</summary>
    public string User { get; init; } = "admin";

    /// <summary>A keyring file holding the user's key. At most one of Keyring and Key.</summary>
    public string? Keyring { get; init; }

    /// <summary>The user's base64 key itself (what a libvirt secret holds). At most one of Keyring and Key.</summary>
    public string? Key { get; init; }

    /// <summary>How long connecting may take before it fails (Ceph's client_mount_timeout; its default is 5 minutes).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a monitor command (blocklist, lookups) may take (rados_mon_op_timeout; Ceph's default is forever).</summary>
    public TimeSpan MonitorTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Further Ceph options by name (<c>rbd_blocklist_on_break_lock</c>, <c>rados_osd_op_timeout</c>...), applied last.
    /// A name Ceph does not know is an error.
    /// </summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>The entity name: <c>client.</c> prefixed unless the user already names a type.</summary>
    public string EntityName => User.Contains('.') ? User : "client." + User;

    /// <summary>Where this client connects to, for messages.</summary>
    public string Describe() => MonHost ?? (ConfPath is null ? "(no monitors)" : $"the monitors of {ConfPath}");

    /// <summary>What is wrong with these options and what to do, or null when they can be used.</summary>
    public string? Problem()
    {
        if (ConfPath is null && string.IsNullOrWhiteSpace(MonHost))
            return "Ceph: give a ceph.conf path or the monitor addresses (mon host), e.g. v2:10.0.0.1:3300";
        if (ConfPath is not null && !File.Exists(ConfPath))
            return $"Ceph: the ceph.conf {ConfPath} does not exist; give the path of the cluster's ceph.conf";
        if (Keyring is not null && Key is not null)
            return "Ceph: give either a keyring file or a key, not both";
        if (Keyring is not null && !File.Exists(Keyring))
            return $"Ceph: the keyring {Keyring} does not exist; give the path of the keyring holding {EntityName}'s key";
        if (string.IsNullOrWhiteSpace(User))
            return "Ceph: the user is empty; give the Ceph user, e.g. admin or client.virt";
        if (ConnectTimeout <= TimeSpan.Zero || MonitorTimeout <= TimeSpan.Zero)
            return "Ceph: timeouts must be positive";
        return null;
    }
}
