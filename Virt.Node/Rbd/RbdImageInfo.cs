namespace Virt.Node.Rbd;

/// <summary>What Ceph says about an image (rbd_stat, rbd_get_features, rbd_get_id).</summary>
/// <param name="Id">The image's internal id; its data objects are named <see cref="BlockNamePrefix"/>.N.</param>
internal sealed record RbdImageInfo(
    string Pool,
    string Name,
    string Id,
    long SizeBytes,
    long ObjectSizeBytes,
    long ObjectCount,
    int Order,
    RbdFeatures Features,
    string BlockNamePrefix)
{
    public string Spec => $"{Pool}/{Name}";
}
