using System.Runtime.InteropServices;

namespace Virt.Node.Rbd;

/// <summary>
/// The part of librados (librados.so.2) Virt uses. Every call returns 0 or a negative errno; size_t is nuint.
/// Strings librados allocates are freed with <c>rados_buffer_free</c> (mon command output) or libc free (getaddrs).
/// </summary>
internal static partial class RadosNative
{
    private const string Lib = "librados.so.2";

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rados_create2(out nint cluster, string clusterName, string entityName, ulong flags);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rados_conf_read_file(nint cluster, string path);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rados_conf_set(nint cluster, string option, string value);

    [LibraryImport(Lib)]
    public static partial int rados_connect(nint cluster);

    [LibraryImport(Lib)]
    public static partial void rados_shutdown(nint cluster);

    [LibraryImport(Lib)]
    public static partial ulong rados_get_instance_id(ClusterHandle cluster);

    [LibraryImport(Lib)]
    public static partial int rados_getaddrs(ClusterHandle cluster, out nint addresses);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rados_blocklist_add(ClusterHandle cluster, string clientAddress, uint expireSeconds);

    [LibraryImport(Lib)]
    public static unsafe partial int rados_mon_command(ClusterHandle cluster, nint* cmd, nuint cmdLength, byte* inBuffer, nuint inLength,
        out nint outBuffer, out nuint outLength, out nint status, out nuint statusLength);

    [LibraryImport(Lib)]
    public static partial void rados_buffer_free(nint buffer);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rados_ioctx_create(ClusterHandle cluster, string poolName, out nint ioctx);

    [LibraryImport(Lib)]
    public static partial void rados_ioctx_destroy(nint ioctx);

    /// <summary>The cls_lock holders of one object, read from its OSD on every call (an RBD image's lock is "rbd_lock" on its header).</summary>
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial nint rados_list_lockers(IoContextHandle io, string oid, string name, out int exclusive, byte* tag, ref nuint tagLength,
        byte* clients, ref nuint clientsLength, byte* cookies, ref nuint cookiesLength, byte* addresses, ref nuint addressesLength);
}
