using System.Runtime.InteropServices;

namespace Virt.Node.Rbd;

/// <summary>One pool opened by a <see cref="RadosCluster"/> (a rados_ioctx_t): its images by name.</summary>
internal sealed class RbdPool : IDisposable
{
    private readonly IoContextHandle _handle;

    internal RbdPool(IoContextHandle handle, string name)
    {
        _handle = handle;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Creates a thin image of <paramref name="sizeBytes"/>; <paramref name="features"/> null takes the cluster's default features.</summary>
    public void CreateImage(string name, long sizeBytes, RbdFeatures? features = null)
    {
        if (sizeBytes <= 0)
            throw new RbdException(CephErrno.EINVAL, "create image", Spec(name), $"create image {Spec(name)}: the size must be positive, not {sizeBytes} bytes");
        var order = 0; // librbd's default object size (4 MiB)
        var result = features is { } f
            ? RbdNative.rbd_create2(_handle, name, (ulong)sizeBytes, (ulong)f, ref order)
            : RbdNative.rbd_create(_handle, name, (ulong)sizeBytes, ref order);
        if (result < 0)
            throw RbdException.From(result, "create image", Spec(name), result == -CephErrno.EINVAL
                ? $"check the name (no '/' or '@') and that the features {features} go together (object-map needs exclusive-lock, fast-diff needs object-map)"
                : null);
    }

    /// <summary>Removes an image and its data. It must have no snapshots and no client may have it open.</summary>
    public void RemoveImage(string name)
    {
        var result = RbdNative.rbd_remove(_handle, name);
        if (result < 0)
        {
            throw RbdException.From(result, "remove image", Spec(name), -result switch
            {
                CephErrno.ENOTEMPTY => "it still has snapshots: remove them first (unprotect protected ones)",
                CephErrno.EBUSY => "a client still has it open (a running VM?): stop that client, or fence it, first",
                CephErrno.ENOENT => $"there is no image {Spec(name)}",
                _ => null,
            });
        }
    }

    /// <summary>The names of the pool's images, sorted.</summary>
    public unsafe IReadOnlyList<string> ListImages()
    {
        nuint capacity = 16;
        while (true)
        {
            var specs = new RbdNative.ImageSpecNative[(int)capacity];
            fixed (RbdNative.ImageSpecNative* p = specs)
            {
                var size = capacity;
                var result = RbdNative.rbd_list2(_handle, p, ref size);
                if (result == -CephErrno.ERANGE)
                {
                    capacity = Math.Max(size, capacity * 2); // the size probe; the pool may grow before the next call
                    continue;
                }

                if (result < 0)
                    throw RbdException.From(result, $"list the images of pool {Name}");
                try
                {
                    var names = new List<string>((int)size);
                    for (var i = 0; i < (int)size; i++)
                        names.Add(Marshal.PtrToStringUTF8(p[i].Name) ?? "");
                    names.Sort(StringComparer.Ordinal);
                    return names;
                }
                finally
                {
                    RbdNative.rbd_image_spec_list_cleanup(p, size);
                }
            }
        }
    }

    /// <summary>
    /// Opens an image. With a <paramref name="snapshot"/> (or <paramref name="readOnly"/>) it is opened read-only: no
    /// watch, no lock, so it never conflicts with the client that writes the image.
    /// </summary>
    public RbdImage OpenImage(string name, string? snapshot = null, bool readOnly = false)
    {
        var result = snapshot is not null || readOnly
            ? RbdNative.rbd_open_read_only(_handle, name, out var raw, snapshot)
            : RbdNative.rbd_open(_handle, name, out raw, null);
        var spec = snapshot is null ? Spec(name) : $"{Spec(name)}@{snapshot}";
        if (result < 0)
            throw RbdException.From(result, "open image", spec, result == -CephErrno.ENOENT
                ? snapshot is null ? $"there is no image {Spec(name)}: create it first, or check the pool and name" : $"there is no image {Spec(name)} or no snapshot {snapshot} of it"
                : null);
        return new RbdImage(new ImageHandle(raw, _handle), _handle, Name, name, snapshot);
    }

    public void Dispose() => _handle.Dispose();

    private string Spec(string image) => $"{Name}/{image}";
}
