using System.Runtime.InteropServices;

namespace Virt.Node.Agent;

/// <summary>
/// A Linux watchdog device (/dev/watchdog, the kernel's watchdog API): opening it starts it, every write pets it,
/// and only a 'V' written before closing stops it ("magic close"); closed without one, it runs out and resets the
/// host. A regular file or a FIFO (tests) takes the same writes, but has no timeout to set.
/// </summary>
internal sealed partial class WatchdogDevice : IDisposable
{
    private static readonly byte[] PetByte = [0];
    private static readonly byte[] MagicClose = "V"u8.ToArray();

    // The kernel's watchdog ioctls (linux/watchdog.h): _IOWR('W', 6, int) and _IOR('W', 7, int).
    private const nuint WdiocSetTimeout = 0xC0045706;
    private const nuint WdiocGetTimeout = 0x80045707;

    private readonly FileStream _stream;

    private WatchdogDevice(string path, FileStream stream, TimeSpan timeout, string? note) =>
        (Path, _stream, Timeout, Note) = (path, stream, timeout, note);

    public string Path { get; }

    /// <summary>What the device took as its timeout (a driver may round the one asked for), or the one asked for when it has none to set.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Something worth a log line about how it was opened (no timeout set on a file), or null.</summary>
    public string? Note { get; }

    /// <summary>Opens (and so starts) the device and sets its timeout. Throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> when it cannot.</summary>
    public static WatchdogDevice Open(string path, TimeSpan timeout)
    {
        // Unbuffered: every write reaches the driver at once. O_CLOEXEC (.NET's default) keeps fence agents and other
        // children from holding the device open after virt-node ends.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        try
        {
            var fd = (int)stream.SafeFileHandle.DangerousGetHandle();
            if (!IsCharacterDevice(fd))
                return new WatchdogDevice(path, stream, timeout, $"{path} is not a character device: no timeout set on it (a test stand-in)");

            var seconds = (int)timeout.TotalSeconds;
            if (ioctl(fd, WdiocSetTimeout, ref seconds) == 0)
                return new WatchdogDevice(path, stream, TimeSpan.FromSeconds(seconds), null);

            // The device runs (it was opened) with a timeout of its own: use it, if it says which, so what this node
            // reports to the others is what will reset it.
            var setError = Marshal.GetLastPInvokeErrorMessage();
            var own = 0;
            if (ioctl(fd, WdiocGetTimeout, ref own) == 0 && own > 0)
                return new WatchdogDevice(path, stream, TimeSpan.FromSeconds(own), $"{path} refused a timeout of {timeout.TotalSeconds:0}s ({setError}); it keeps its own, {own}s");
            throw new IOException($"{path} refused a timeout of {timeout.TotalSeconds:0}s ({setError}) and does not tell its own: is it a watchdog device?");
        }
        catch
        {
            Disarm(stream);
            throw;
        }
    }

    /// <summary>Pets it: the timeout starts again.</summary>
    public void Pet() => _stream.Write(PetByte);

    /// <summary>Stops it and closes it: the host is not reset (unless the driver was built with nowayout).</summary>
    public void Disarm() => Disarm(_stream);

    /// <summary>Closes it still running: unless something pets it again, it resets the host after its timeout.</summary>
    public void Abandon() => _stream.Dispose();

    public void Dispose() => _stream.Dispose();

    private static void Disarm(FileStream stream)
    {
        try
        {
            stream.Write(MagicClose);
        }
        finally
        {
            stream.Dispose();
        }
    }

    private static bool IsCharacterDevice(int fd)
    {
        const int AtEmptyPath = 0x1000;
        const uint StatxType = 0x1;
        const ushort TypeMask = 0xF000, CharacterDevice = 0x2000;
        // statx's layout is the same on every architecture, unlike struct stat's.
        if (statx(fd, "", AtEmptyPath, StatxType, out var status) != 0)
            throw new IOException($"cannot tell what kind of file it is: {Marshal.GetLastPInvokeErrorMessage()}");
        return (status.Mode & TypeMask) == CharacterDevice;
    }

    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Statx
    {
        [FieldOffset(28)] public ushort Mode;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, nuint request, ref int argument);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, out Statx status);
}
