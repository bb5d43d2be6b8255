using Microsoft.Win32.SafeHandles;

namespace Virt.Node.Rbd;

/// <summary>A rados_t; shut down exactly once, after every pool and image opened through it is closed.</summary>
internal sealed class ClusterHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ClusterHandle(nint existing)
        : base(ownsHandle: true) => SetHandle(existing);

    protected override bool ReleaseHandle()
    {
        RadosNative.rados_shutdown(handle);
        return true;
    }
}

/// <summary>
/// A rados_ioctx_t. It holds a reference on its cluster handle, so the cluster cannot be shut down under it whatever
/// order the handles are disposed or finalized in.
/// </summary>
internal sealed class IoContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly ClusterHandle _cluster;

    public IoContextHandle(nint existing, ClusterHandle cluster)
        : base(ownsHandle: true)
    {
        var added = false;
        cluster.DangerousAddRef(ref added);
        _cluster = cluster;
        SetHandle(existing);
    }

    protected override bool ReleaseHandle()
    {
        RadosNative.rados_ioctx_destroy(handle);
        _cluster.DangerousRelease();
        return true;
    }
}

/// <summary>An rbd_image_t; closed exactly once, before the pool handle it was opened in.</summary>
internal sealed class ImageHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly IoContextHandle _pool;

    public ImageHandle(nint existing, IoContextHandle pool)
        : base(ownsHandle: true)
    {
        var added = false;
        pool.DangerousAddRef(ref added);
        _pool = pool;
        SetHandle(existing);
    }

    protected override bool ReleaseHandle()
    {
        // A blocklisted client's close fails to flush (-108), but librbd frees the handle all the same.
        RbdNative.rbd_close(handle);
        _pool.DangerousRelease();
        return true;
    }
}
