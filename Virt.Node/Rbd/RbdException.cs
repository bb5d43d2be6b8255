using System.Runtime.InteropServices;

namespace Virt.Node.Rbd;

/// <summary>
/// A librados or librbd call failed. Carries the errno, the operation and (when there is one) the image as
/// <c>pool/name</c>; the message says what happened in words and what to do about it.
/// </summary>
internal class RbdException(int errno, string operation, string? image, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The positive errno (2 for ENOENT, 108 for ESHUTDOWN...).</summary>
    public int Errno { get; } = errno;

    /// <summary>What was being done: "open image", "lock image", "connect"...</summary>
    public string Operation { get; } = operation;

    /// <summary><c>pool/name</c> of the image concerned, or null for cluster-wide operations.</summary>
    public string? Image { get; } = image;

    /// <summary>
    /// The exception for a negative return code: "{operation} {image}: {reason} (errno N); {hint}". Blocklisting and
    /// missing objects get their own types because callers react to them.
    /// </summary>
    public static RbdException From(int result, string operation, string? image = null, string? hint = null)
    {
        var errno = Math.Abs(result);
        var subject = image is null ? operation : $"{operation} {image}";
        var message = $"{subject}: {Reason(errno)} (errno {errno}){(hint ?? DefaultHint(errno, image)) switch { null => "", var h => "; " + h }}";
        return errno switch
        {
            CephErrno.ESHUTDOWN => new RbdBlocklistedException(operation, image, message),
            CephErrno.ENOENT => new RbdNotFoundException(operation, image, message),
            _ => new RbdException(errno, operation, image, message),
        };
    }

    private static string Reason(int errno) => errno switch
    {
        CephErrno.ESHUTDOWN => "this client is blocklisted by the Ceph cluster (fenced)",
        CephErrno.ENOENT => "not found",
        CephErrno.EEXIST => "already exists",
        CephErrno.EBUSY => "busy",
        CephErrno.ETIMEDOUT => "timed out",
        CephErrno.EACCES or CephErrno.EPERM => "permission denied",
        _ => Marshal.GetPInvokeErrorMessage(errno),
    };

    private static string? DefaultHint(int errno, string? image) => errno switch
    {
        CephErrno.ESHUTDOWN => "a blocklisted client can do nothing more: find out why it was fenced, then connect again as a new client once its address is removed from the blocklist",
        CephErrno.ENOENT when image is not null => $"check the pool and image name, or create {image} first",
        CephErrno.EEXIST when image is not null => $"choose another name, or remove {image} first",
        CephErrno.ETIMEDOUT => "check that the Ceph monitors and OSDs are up and reachable from this host",
        CephErrno.EACCES or CephErrno.EPERM => "check the Ceph user's caps (it needs 'profile rbd' on the pool, and mon 'allow r' plus 'osd blocklist' to fence)",
        _ => null,
    };
}

/// <summary>The pool, image, snapshot or lock does not exist (ENOENT).</summary>
internal sealed class RbdNotFoundException(string operation, string? image, string message)
    : RbdException(CephErrno.ENOENT, operation, image, message);

/// <summary>This client has been blocklisted (ESHUTDOWN, -108): it was fenced and its handle can do nothing more.</summary>
internal sealed class RbdBlocklistedException(string operation, string? image, string message)
    : RbdException(CephErrno.ESHUTDOWN, operation, image, message);

/// <summary>The image is locked by another client (EBUSY); <see cref="Lockers"/> says by whom, as Ceph reported it.</summary>
internal sealed class RbdImageLockedException(string operation, string image, ImageLockers lockers, string message)
    : RbdException(CephErrno.EBUSY, operation, image, message)
{
    public ImageLockers Lockers { get; } = lockers;
}

/// <summary>The Linux errno values the binding reacts to.</summary>
internal static class CephErrno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int EROFS = 30;
    public const int ERANGE = 34;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ESHUTDOWN = 108; // what librados calls EBLOCKLISTED
    public const int ETIMEDOUT = 110;
}
