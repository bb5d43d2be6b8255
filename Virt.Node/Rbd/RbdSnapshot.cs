namespace Virt.Node.Rbd;

/// <summary>A snapshot of an image, as listed by Ceph.</summary>
/// <param name="SizeBytes">The image's size when the snapshot was taken.</param>
/// <param name="Protected">Protected snapshots cannot be removed (clones may depend on them).</param>
internal sealed record RbdSnapshot(ulong Id, string Name, long SizeBytes, bool Protected, DateTimeOffset CreatedAt);
