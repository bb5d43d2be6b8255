using System.Runtime.InteropServices;
using System.Text;

namespace Virt.Node.Rbd;

/// <summary>
/// One open image (an rbd_image_t): its info and size, its advisory lock, its snapshots, and reads and writes.
/// Every answer comes from Ceph at the time of the call; nothing is cached here.
/// </summary>
internal sealed class RbdImage : IDisposable
{
    private readonly ImageHandle _handle;
    private readonly IoContextHandle _pool;
    private string? _headerObject;

    internal RbdImage(ImageHandle handle, IoContextHandle pool, string poolName, string name, string? snapshot)
    {
        _handle = handle;
        _pool = pool;
        Pool = poolName;
        Name = name;
        Snapshot = snapshot;
    }

    public string Pool { get; }

    public string Name { get; }

    /// <summary>The snapshot this handle reads from, or null for the image itself.</summary>
    public string? Snapshot { get; }

    /// <summary><c>pool/name</c>, as in messages and the rbd CLI.</summary>
    public string Spec => $"{Pool}/{Name}";

    public unsafe RbdImageInfo Info()
    {
        Check(RbdNative.rbd_stat(_handle, out var stat, (nuint)sizeof(RbdNative.ImageInfoNative)), "read the info of image");
        Check(RbdNative.rbd_get_features(_handle, out var features), "read the features of image");
        var id = stackalloc byte[128];
        Check(RbdNative.rbd_get_id(_handle, id, 128), "read the id of image");
        var prefix = Encoding.UTF8.GetString(new ReadOnlySpan<byte>(stat.BlockNamePrefix, 24)).TrimEnd('\0');
        return new RbdImageInfo(Pool, Name, Marshal.PtrToStringUTF8((nint)id) ?? "", (long)stat.Size, (long)stat.ObjectSize, (long)stat.ObjectCount,
            stat.Order, (RbdFeatures)features, prefix);
    }

    public long SizeBytes() => Info().SizeBytes;

    /// <summary>Grows (or, with <paramref name="allowShrink"/>, shrinks) the image. Shrinking discards the data past the new end.</summary>
    public unsafe void Resize(long sizeBytes, bool allowShrink = false)
    {
        var current = SizeBytes();
        if (sizeBytes < current && !allowShrink)
            throw new RbdException(CephErrno.EINVAL, "resize image", Spec,
                $"resize image {Spec}: refusing to shrink it from {current} to {sizeBytes} bytes, which discards data; allow shrinking to do it anyway");
        Check(RbdNative.rbd_resize2(_handle, (ulong)sizeBytes, allowShrink, &RbdNative.NoProgress, 0), "resize image");
    }

    /// <summary>
    /// Who holds the image's lock now (advisory or managed), read from the OSD on every call: the cls_lock of the image's
    /// header object (rados_list_lockers, sized by a probe call first).
    /// </summary>
    public unsafe ImageLockers Lockers()
    {
        _headerObject ??= "rbd_header." + Info().Id; // the id never changes
        nuint tagLength = 0, clientsLength = 0, cookiesLength = 0, addressesLength = 0;
        for (var attempt = 0; ; attempt++)
        {
            var tag = new byte[(int)tagLength];
            var clients = new byte[(int)clientsLength];
            var cookies = new byte[(int)cookiesLength];
            var addresses = new byte[(int)addressesLength];
            fixed (byte* t = tag, cl = clients, co = cookies, a = addresses)
            {
                var result = (int)RadosNative.rados_list_lockers(_pool, _headerObject, RbdNative.LockName, out var exclusive, t, ref tagLength, cl, ref clientsLength, co, ref cookiesLength, a, ref addressesLength);
                if (result == -CephErrno.ERANGE && attempt < 8)
                    continue; // the probe (or lockers changed since it): the lengths now say what is needed
                if (result == -CephErrno.ENOENT)
                    return new ImageLockers(false, "", []); // a header object never locked has no lock entry
                Check(result, "list the lockers of image");
                // Counted from the buffers, not the return value (librbd 16's rbd_list_lockers returns 0 where its header promises the count).
                var clientNames = Split(clients, clientsLength);
                var cookieNames = Split(cookies, cookiesLength);
                var addressNames = Split(addresses, addressesLength);
                var holders = new List<ImageLocker>(clientNames.Count);
                for (var i = 0; i < clientNames.Count; i++)
                    holders.Add(new ImageLocker(clientNames[i], cookieNames[i], CephAddress.Bare(addressNames[i]))); // rados prints "v1:" before it
                return new ImageLockers(exclusive == 1, Split(tag, tagLength).FirstOrDefault() ?? "", holders);
            }
        }
    }

    /// <summary>
    /// Takes the advisory lock alone. Fails with <see cref="RbdImageLockedException"/> naming the holder when another
    /// client (or another cookie) holds it. Refused on images with the exclusive-lock feature: their writers take the same
    /// lock themselves, and a write would then wait forever for an advisory holder to hand it over; use
    /// <see cref="AcquireExclusiveLock"/> on those.
    /// </summary>
    public void LockExclusive(string cookie)
    {
        RefuseAdvisoryLockWithExclusiveLockFeature("lock image");
        Lock(RbdNative.rbd_lock_exclusive(_handle, cookie), cookie, "lock image");
    }

    /// <summary>Takes the advisory lock shared with every client that uses the same <paramref name="tag"/>.</summary>
    public void LockShared(string cookie, string tag)
    {
        RefuseAdvisoryLockWithExclusiveLockFeature("lock image (shared)");
        Lock(RbdNative.rbd_lock_shared(_handle, cookie, tag), cookie, "lock image (shared)");
    }

    /// <summary>Releases this client's advisory lock taken with <paramref name="cookie"/>.</summary>
    public void Unlock(string cookie)
    {
        var result = RbdNative.rbd_unlock(_handle, cookie);
        if (result < 0)
            throw RbdException.From(result, "unlock image", Spec, result == -CephErrno.ENOENT ? $"this client holds no lock with cookie '{cookie}' on it" : null);
    }

    /// <summary>
    /// Breaks another client's lock, named as <see cref="Lockers"/> reports it. librbd first blocklists the holder's
    /// address (rbd_blocklist_on_break_lock, on by default; for rbd_blocklist_expire_seconds, 0 meaning Ceph's 1 hour),
    /// so a holder that is still alive cannot write once its lock is gone.
    /// </summary>
    public void BreakLock(string client, string cookie)
    {
        var result = RbdNative.rbd_break_lock(_handle, client, cookie);
        if (result < 0)
            throw RbdException.From(result, $"break the lock of {client} (cookie '{cookie}') on image", Spec, -result switch
            {
                CephErrno.ENOENT => $"{client} holds no lock with that cookie on it any more: read the lockers again",
                CephErrno.EINVAL => $"'{client}' is not a client name; give it as the lockers list it, like client.4123",
                _ => null,
            });
    }

    /// <summary>
    /// Takes the exclusive-lock feature's managed lock and keeps it: other clients' requests are refused until
    /// <see cref="ReleaseExclusiveLock"/>. (The lock a write takes implicitly, as QEMU's, is handed over to any other
    /// writer that asks.) The image needs the exclusive-lock feature.
    /// </summary>
    public void AcquireExclusiveLock()
    {
        var result = RbdNative.rbd_lock_acquire(_handle, RbdNative.LockModeExclusive);
        if (result == -CephErrno.EROFS || result == -CephErrno.EBUSY)
            throw Locked("take the exclusive lock of image", result);
        if (result < 0)
            throw RbdException.From(result, "take the exclusive lock of image", Spec, result == -CephErrno.EINVAL ? "the image does not have the exclusive-lock feature" : null);
    }

    public void ReleaseExclusiveLock() => Check(RbdNative.rbd_lock_release(_handle), "release the exclusive lock of image");

    /// <summary>The image's snapshots in creation order (rbd_snap_list, sized by a probe call first).</summary>
    public unsafe IReadOnlyList<RbdSnapshot> Snapshots()
    {
        var capacity = 0;
        for (var attempt = 0; ; attempt++)
        {
            var snaps = new RbdNative.SnapInfoNative[capacity];
            fixed (RbdNative.SnapInfoNative* p = snaps)
            {
                var max = capacity;
                var result = RbdNative.rbd_snap_list(_handle, p, ref max);
                if (result == -CephErrno.ERANGE && attempt < 8)
                {
                    capacity = max; // room for every snapshot plus the terminating entry librbd writes
                    continue;
                }

                Check(result, "list the snapshots of image");
                try
                {
                    var list = new List<RbdSnapshot>(result);
                    for (var i = 0; i < result; i++)
                    {
                        var name = Marshal.PtrToStringUTF8(p[i].Name) ?? "";
                        list.Add(new RbdSnapshot(p[i].Id, name, (long)p[i].Size, IsProtected(name), Timestamp(p[i].Id)));
                    }

                    return list;
                }
                finally
                {
                    RbdNative.rbd_snap_list_end(p);
                }
            }
        }
    }

    public void CreateSnapshot(string name) =>
        Snap(RbdNative.rbd_snap_create(_handle, name), "create snapshot", name, CephErrno.EEXIST, "choose another name, or remove that snapshot first");

    public void RemoveSnapshot(string name) =>
        Snap(RbdNative.rbd_snap_remove(_handle, name), "remove snapshot", name, CephErrno.EBUSY, "it is protected: unprotect it first");

    /// <summary>Puts the image's content back as it was at the snapshot. Nobody may write the image meanwhile (stop its VM first).</summary>
    public void RollbackToSnapshot(string name) =>
        Snap(RbdNative.rbd_snap_rollback(_handle, name), "roll back to snapshot", name, CephErrno.EROFS, "another client holds the image's exclusive lock (a running VM?): stop it first");

    /// <summary>Protects a snapshot against removal (needed before cloning it). Needs the layering feature.</summary>
    public void ProtectSnapshot(string name) =>
        Snap(RbdNative.rbd_snap_protect(_handle, name), "protect snapshot", name, CephErrno.ENOSYS, "protection needs the layering feature on the image");

    public void UnprotectSnapshot(string name) =>
        Snap(RbdNative.rbd_snap_unprotect(_handle, name), "unprotect snapshot", name, CephErrno.EBUSY, "clones still depend on it: flatten or remove them first");

    /// <summary>Reads up to <paramref name="buffer"/>'s length at <paramref name="offset"/>; returns how much was read (less at the end of the image).</summary>
    public unsafe int Read(long offset, Span<byte> buffer, bool sequential = false)
    {
        fixed (byte* p = buffer)
        {
            var result = RbdNative.rbd_read2(_handle, (ulong)offset, (nuint)buffer.Length, p, sequential ? RbdNative.OpFlagFadviseSequential : 0);
            if (result < 0)
                throw RbdException.From((int)result, $"read {buffer.Length} bytes at {offset} of image", Spec);
            return (int)result;
        }
    }

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/>; returns once the OSD has it (the binding turns librbd's
    /// cache off unless <see cref="CephClientOptions.Settings"/> turns it on). A blocklisted client gets <see cref="RbdBlocklistedException"/>.
    /// </summary>
    public unsafe void Write(long offset, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var result = RbdNative.rbd_write(_handle, (ulong)offset, (nuint)data.Length, p);
            if (result < 0)
                throw RbdException.From((int)result, $"write {data.Length} bytes at {offset} of image", Spec);
            if (result != data.Length)
                throw new RbdException(CephErrno.EIO, "write", Spec, $"write at {offset} of image {Spec}: librbd wrote {result} of {data.Length} bytes");
        }
    }

    /// <summary>Waits until every write so far is on the OSDs.</summary>
    public void Flush() => Check(RbdNative.rbd_flush(_handle), "flush image");

    public void Dispose() => _handle.Dispose();

    private void Lock(int result, string cookie, string operation)
    {
        if (result == -CephErrno.EBUSY)
            throw Locked(operation, result);
        if (result < 0)
            throw RbdException.From(result, operation, Spec, result == -CephErrno.EEXIST ? $"this client already holds that lock (cookie '{cookie}')" : null);
    }

    private void RefuseAdvisoryLockWithExclusiveLockFeature(string operation)
    {
        Check(RbdNative.rbd_get_features(_handle, out var features), "read the features of image");
        if (((RbdFeatures)features).HasFlag(RbdFeatures.ExclusiveLock))
            throw new RbdException(CephErrno.EINVAL, operation, Spec,
                $"{operation} {Spec}: the image has the exclusive-lock feature, whose writers take the same lock themselves; an advisory lock would make every write wait forever. Take the exclusive lock (as QEMU does) instead, or use an image without that feature");
    }

    private RbdImageLockedException Locked(string operation, int result)
    {
        var lockers = Lockers();
        var message = lockers.IsLocked
            ? $"image {Spec} is locked by {lockers.Describe()} (cookie '{lockers.Holders[0].Cookie}'): if that client is dead, fence it (blocklist its address) and break its lock; otherwise stop it first"
            : $"image {Spec} is locked by another client (errno {-result}), which released it since; try again";
        return new RbdImageLockedException(operation, Spec, lockers, message);
    }

    private bool IsProtected(string snapshot)
    {
        Check(RbdNative.rbd_snap_is_protected(_handle, snapshot, out var isProtected), $"read the protection of snapshot {snapshot} of image");
        return isProtected == 1;
    }

    private DateTimeOffset Timestamp(ulong snapshotId)
    {
        Check(RbdNative.rbd_snap_get_timestamp(_handle, snapshotId, out var ts), "read a snapshot's time of image");
        return DateTimeOffset.FromUnixTimeSeconds(ts.Seconds).AddTicks(ts.Nanoseconds / 100);
    }

    private void Snap(int result, string operation, string snapshot, int knownErrno, string knownHint)
    {
        if (result >= 0)
            return;
        var hint = -result == knownErrno ? knownHint : result == -CephErrno.ENOENT ? $"image {Spec} has no snapshot '{snapshot}'" : null;
        throw RbdException.From(result, operation, $"{Spec}@{snapshot}", hint);
    }

    private void Check(int result, string operation)
    {
        if (result < 0)
            throw RbdException.From(result, operation, Spec);
    }

    private static List<string> Split(byte[] buffer, nuint length) =>
        Encoding.UTF8.GetString(buffer, 0, (int)Math.Min((nuint)buffer.Length, length)).Split('\0').SkipLast(1).ToList();
}
