using System.Text.Json.Serialization;

namespace Virt.Actors.Vm;

/// <summary>What to do when a VM stops without being asked to.</summary>
public enum RestartPolicy
{
    /// <summary>Restart after any unexpected stop, clean guest shutdowns included.</summary>
    Always,

    /// <summary>Restart after a crash or kill; a clean shutdown from inside the guest is respected.</summary>
    OnFailure,

    /// <summary>Never restart automatically.</summary>
    Never,
}

/// <summary>
/// A VM as the operator defines it. Sizes: memory in MiB. Optional fields fall back to the node's defaults.
/// <see cref="Labels"/> are the operator's key=value tags, for selecting VMs (<c>vm stop --label app=web</c>).
/// <see cref="Vnc"/> gives the domain a VNC display on <see cref="VncPort"/> (null: libvirt picks a free one).
/// <see cref="Readiness"/> says how the guest tells it is ready (null: running counts as ready).
/// </summary>
public sealed record VmSpec(
    string Name,
    Guid Uuid,
    int Vcpus,
    long MemoryMib,
    IReadOnlyList<DiskSpec> Disks,
    IReadOnlyList<NicSpec> Nics,
    RestartPolicy Restart = RestartPolicy.Always,
    int Priority = 0,
    TimeSpan? StopTimeout = null,
    int? MaxRestarts = null,
    TimeSpan? RestartWindow = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    bool Vnc = false,
    int? VncPort = null,
    KernelSpec? Kernel = null,
    ReadinessSpec? Readiness = null)
{
    /// <summary>The ready check, <see cref="ReadinessKind.None"/> when the spec has none.</summary>
    [JsonIgnore]
    public ReadinessSpec ReadyCheck => Readiness ?? new ReadinessSpec(ReadinessKind.None);

    /// <summary>
    /// Whether two specs describe the same machine (uuid, vCPUs, memory, disks, NICs, display, ready check): what the domain
    /// is made of, as opposed to the policy around it (restart, priority, timeouts, labels), which can change while it runs.
    /// The ready check counts as machine: the virtio-signal channel is in the domain, and a run is watched for the check it
    /// started with.
    /// </summary>
    public static bool SameMachine(VmSpec a, VmSpec b) =>
        a.Uuid == b.Uuid && a.Vcpus == b.Vcpus && a.MemoryMib == b.MemoryMib && a.Vnc == b.Vnc && a.VncPort == b.VncPort && Text(a.Kernel) == Text(b.Kernel) && Text(a.Disks) == Text(b.Disks) && Text(a.Nics) == Text(b.Nics)
        && Text(a.ReadyCheck) == Text(b.ReadyCheck);

    /// <summary>Same in everything (lists and labels by content, not by reference).</summary>
    public static bool Same(VmSpec a, VmSpec b) => Text(a) == Text(b);

    /// <summary><paramref name="a"/>'s machine with <paramref name="policy"/>'s policy.</summary>
    public static VmSpec MachineWithPolicy(VmSpec a, VmSpec policy) => a with
    {
        Restart = policy.Restart, Priority = policy.Priority, StopTimeout = policy.StopTimeout, MaxRestarts = policy.MaxRestarts,
        RestartWindow = policy.RestartWindow, Labels = policy.Labels,
    };

    /// <summary>
    /// The spec's version: a digest of everything in it, so any change (and only a change) gives another. The API's
    /// ETag of a spec; an update that names the version it was made on is refused once the spec is another.
    /// </summary>
    public static string Version(VmSpec spec) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Text(spec))).AsSpan(0, 8));

    public bool HasLabel(string key, string value) => Labels is { } labels && labels.TryGetValue(key, out var v) && v == value;

    private static string Text<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, Persistence.ManifestCodec.JsonOptions);
}

/// <summary>Direct kernel boot: the host's kernel file, an initramfs and the kernel command line (instead of booting a disk).</summary>
public sealed record KernelSpec(string Path, string? Initrd = null, string? Cmdline = null);

public enum DiskKind
{
    File,
    Block,
    Rbd,
}

/// <summary>
/// A disk: a file, a block device, or a Ceph RBD image (<see cref="Path"/> is <c>pool/image</c>, reached through
/// <see cref="Monitors"/> with the libvirt secret <see cref="SecretUuid"/> for <see cref="User"/>).
/// </summary>
public sealed record DiskSpec(
    DiskKind Kind,
    string Path,
    string Target = "vda",
    string Bus = "virtio",
    bool ReadOnly = false,
    IReadOnlyList<string>? Monitors = null,
    string? User = null,
    Guid? SecretUuid = null);

public enum NicKind
{
    Network,
    Bridge,
}

/// <summary>A NIC on a libvirt network or a host bridge, optionally VLAN-tagged and on Open vSwitch.</summary>
public sealed record NicSpec(
    NicKind Kind,
    string Source,
    string? Mac = null,
    int? Vlan = null,
    bool OpenVSwitch = false,
    string Model = "virtio");
