namespace Virt.Node.Rbd;

/// <summary>RBD image features (rbd/features.h).</summary>
[Flags]
internal enum RbdFeatures : ulong
{
    None = 0,
    Layering = 1UL << 0,
    StripingV2 = 1UL << 1,

    /// <summary>librbd takes a managed lock on first write (QEMU does); it uses the same lock as the advisory locks.</summary>
    ExclusiveLock = 1UL << 2,
    ObjectMap = 1UL << 3,
    FastDiff = 1UL << 4,
    DeepFlatten = 1UL << 5,
    Journaling = 1UL << 6,
    DataPool = 1UL << 7,
    Operations = 1UL << 8,
    Migrating = 1UL << 9,
    NonPrimary = 1UL << 10,
    DirtyCache = 1UL << 11,

    /// <summary>What Ceph creates by default (RBD_FEATURES_DEFAULT).</summary>
    Default = Layering | ExclusiveLock | ObjectMap | FastDiff | DeepFlatten,
}
