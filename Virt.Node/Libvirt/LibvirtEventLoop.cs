namespace Virt.Node.Libvirt;

/// <summary>
/// libvirt's default event loop, on one dedicated thread for the whole process. It must be registered before the
/// first connection is opened, or that connection gets no events and no keepalive.
/// </summary>
internal static class LibvirtEventLoop
{
    private static readonly object Gate = new();
    private static bool _started;

    public static unsafe void EnsureStarted()
    {
        lock (Gate)
        {
            if (_started)
                return;
            // Without a handler libvirt prints every error to stderr; ours are read per call instead.
            LibvirtNative.virSetErrorFunc(0, &IgnoreError);
            if (LibvirtNative.virEventRegisterDefaultImpl() < 0)
                throw LibvirtException.Last("virEventRegisterDefaultImpl");
            var thread = new Thread(Run) { IsBackground = true, Name = "libvirt-events" };
            thread.Start();
            _started = true;
        }
    }

    private static void Run()
    {
        while (true)
            LibvirtNative.virEventRunDefaultImpl(); // blocks in poll until something is due
    }

    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    private static void IgnoreError(nint userData, nint error)
    {
    }
}
