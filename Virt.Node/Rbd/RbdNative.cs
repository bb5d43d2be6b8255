using System.Runtime.InteropServices;

namespace Virt.Node.Rbd;

/// <summary>
/// The part of librbd (librbd.so.1) Virt uses. Calls return 0 (or a count) or a negative errno. Listing calls take a
/// size probe first: called with too small a buffer they return -ERANGE and say how much they need.
/// </summary>
internal static partial class RbdNative
{
    private const string Lib = "librbd.so.1";

    public const int LockModeExclusive = 0; // rbd_lock_mode_t
    public const string LockName = "rbd_lock"; // RBD_LOCK_NAME, on object rbd_header.ID (format 2 images)
    public const int OpFlagFadviseSequential = 0x8; // LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL

    // Images in a pool
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_create2(IoContextHandle io, string name, ulong size, ulong features, ref int order);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_create(IoContextHandle io, string name, ulong size, ref int order);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_remove(IoContextHandle io, string name);

    [LibraryImport(Lib)]
    public static unsafe partial int rbd_list2(IoContextHandle io, ImageSpecNative* images, ref nuint maxImages);

    [LibraryImport(Lib)]
    public static unsafe partial void rbd_image_spec_list_cleanup(ImageSpecNative* images, nuint count);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_open(IoContextHandle io, string name, out nint image, string? snapName);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_open_read_only(IoContextHandle io, string name, out nint image, string? snapName);

    [LibraryImport(Lib)]
    public static partial int rbd_close(nint image);

    // One image
    [LibraryImport(Lib)]
    public static partial int rbd_stat(ImageHandle image, out ImageInfoNative info, nuint infoSize);

    [LibraryImport(Lib)]
    public static partial int rbd_get_features(ImageHandle image, out ulong features);

    [LibraryImport(Lib)]
    public static unsafe partial int rbd_get_id(ImageHandle image, byte* id, nuint length);

    [LibraryImport(Lib)]
    public static unsafe partial int rbd_resize2(ImageHandle image, ulong size, [MarshalAs(UnmanagedType.U1)] bool allowShrink,
        delegate* unmanaged<ulong, ulong, nint, int> progress, nint data);

    /// <summary>librbd calls a progress callback unconditionally: passing NULL crashes the process.</summary>
    [UnmanagedCallersOnly]
    public static int NoProgress(ulong offset, ulong total, nint data) => 0;

    [LibraryImport(Lib)]
    public static unsafe partial nint rbd_read2(ImageHandle image, ulong offset, nuint length, byte* buffer, int opFlags);

    [LibraryImport(Lib)]
    public static unsafe partial nint rbd_write(ImageHandle image, ulong offset, nuint length, byte* buffer);

    [LibraryImport(Lib)]
    public static partial int rbd_flush(ImageHandle image);

    // Advisory locks (cls_lock "rbd_lock" on the header object; the exclusive-lock feature uses the same lock). Not
    // rbd_list_lockers: it answers from the handle's cached header, which a managed lock taken elsewhere does not refresh.
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_lock_exclusive(ImageHandle image, string cookie);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_lock_shared(ImageHandle image, string cookie, string tag);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_unlock(ImageHandle image, string cookie);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_break_lock(ImageHandle image, string client, string cookie);

    // The managed exclusive lock (feature exclusive-lock), as QEMU takes it on first write
    [LibraryImport(Lib)]
    public static partial int rbd_lock_acquire(ImageHandle image, int lockMode);

    [LibraryImport(Lib)]
    public static partial int rbd_lock_release(ImageHandle image);

    // Snapshots
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_snap_create(ImageHandle image, string name);

    [LibraryImport(Lib)]
    public static unsafe partial int rbd_snap_list(ImageHandle image, SnapInfoNative* snaps, ref int maxSnaps);

    [LibraryImport(Lib)]
    public static unsafe partial void rbd_snap_list_end(SnapInfoNative* snaps);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_snap_remove(ImageHandle image, string name);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_snap_rollback(ImageHandle image, string name);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_snap_protect(ImageHandle image, string name);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_snap_unprotect(ImageHandle image, string name);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rbd_snap_is_protected(ImageHandle image, string name, out int isProtected);

    [LibraryImport(Lib)]
    public static partial int rbd_snap_get_timestamp(ImageHandle image, ulong snapId, out TimespecNative timestamp);

    /// <summary>rbd_image_info_t: 160 bytes on x86_64 (the deprecated name fields are fixed arrays, padded before parent_pool).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct ImageInfoNative
    {
        public ulong Size;
        public ulong ObjectSize;
        public ulong ObjectCount;
        public int Order;
        public fixed byte BlockNamePrefix[24];
        public long ParentPool;
        public fixed byte ParentName[96];
    }

    /// <summary>rbd_snap_info_t; the name belongs to librbd until rbd_snap_list_end.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SnapInfoNative
    {
        public ulong Id;
        public ulong Size;
        public nint Name;
    }

    /// <summary>rbd_image_spec_t; freed by rbd_image_spec_list_cleanup.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ImageSpecNative
    {
        public nint Id;
        public nint Name;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TimespecNative
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
