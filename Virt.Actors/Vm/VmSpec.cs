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

/// <summary>A VM as the operator defines it. Sizes: memory in MiB. Optional fields fall back to the node's defaults.</summary>
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
    TimeSpan? RestartWindow = null);

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
