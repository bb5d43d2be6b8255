using System.Runtime.InteropServices;

namespace Virt.Node.Libvirt;

/// <summary>The part of libvirt's C API Virt uses (libvirt.so.0). Strings in are UTF-8; strings out are read by hand.</summary>
internal static partial class LibvirtNative
{
    private const string Lib = "libvirt.so.0";

    // Connections
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial ConnectionHandle virConnectOpen(string? name);

    [LibraryImport(Lib)]
    public static partial int virConnectClose(nint conn);

    [LibraryImport(Lib)]
    public static partial int virConnectIsAlive(ConnectionHandle conn);

    [LibraryImport(Lib)]
    public static partial int virConnectSetKeepAlive(ConnectionHandle conn, int interval, uint count);

    [LibraryImport(Lib)]
    public static unsafe partial int virConnectRegisterCloseCallback(ConnectionHandle conn, delegate* unmanaged<nint, int, nint, void> cb, nint opaque, nint freeCb);

    [LibraryImport(Lib)]
    public static unsafe partial int virConnectUnregisterCloseCallback(ConnectionHandle conn, delegate* unmanaged<nint, int, nint, void> cb);

    [LibraryImport(Lib)]
    public static partial int virNodeGetInfo(ConnectionHandle conn, out NodeInfoNative info);

    [LibraryImport(Lib)]
    public static partial nint virConnectGetHostname(ConnectionHandle conn);

    [LibraryImport(Lib)]
    public static partial nint virConnectGetType(ConnectionHandle conn);

    [LibraryImport(Lib)]
    public static unsafe partial int virConnectListAllDomains(ConnectionHandle conn, nint* domains, uint flags);

    // Domains
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial DomainHandle virDomainLookupByName(ConnectionHandle conn, string name);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial DomainHandle virDomainDefineXMLFlags(ConnectionHandle conn, string xml, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainUndefineFlags(DomainHandle dom, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainCreate(DomainHandle dom);

    [LibraryImport(Lib)]
    public static partial int virDomainShutdown(DomainHandle dom);

    [LibraryImport(Lib)]
    public static partial int virDomainDestroy(DomainHandle dom);

    [LibraryImport(Lib)]
    public static partial int virDomainReboot(DomainHandle dom, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainReset(DomainHandle dom, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainSuspend(DomainHandle dom);

    [LibraryImport(Lib)]
    public static partial int virDomainResume(DomainHandle dom);

    [LibraryImport(Lib)]
    public static partial int virDomainGetState(DomainHandle dom, out int state, out int reason, uint flags);

    /// <summary>The running domain's id (a new one each time it starts); uint.MaxValue when it is not running.</summary>
    [LibraryImport(Lib)]
    public static partial uint virDomainGetID(DomainHandle dom);

    [LibraryImport(Lib)]
    public static partial int virDomainGetInfo(DomainHandle dom, out DomainInfoNative info);

    [LibraryImport(Lib)]
    public static partial nint virDomainGetXMLDesc(DomainHandle dom, uint flags);

    [LibraryImport(Lib)]
    public static unsafe partial int virDomainSendKey(DomainHandle dom, uint codeset, uint holdtime, uint* keycodes, int nkeycodes, uint flags);

    [LibraryImport(Lib)]
    public static partial nint virDomainGetName(nint dom);

    [LibraryImport(Lib)]
    public static unsafe partial int virDomainGetUUIDString(nint dom, byte* buf);

    [LibraryImport(Lib)]
    public static partial int virDomainFree(nint dom);

    // Streams (the serial console)
    [LibraryImport(Lib)]
    public static partial nint virStreamNew(ConnectionHandle conn, uint flags);

    [LibraryImport(Lib)]
    public static partial int virDomainOpenConsole(DomainHandle dom, nint devName, nint stream, uint flags);

    [LibraryImport(Lib)]
    public static unsafe partial int virStreamRecv(nint stream, byte* data, nuint nbytes);

    [LibraryImport(Lib)]
    public static unsafe partial int virStreamSend(nint stream, byte* data, nuint nbytes);

    [LibraryImport(Lib)]
    public static partial int virStreamAbort(nint stream);

    [LibraryImport(Lib)]
    public static partial int virStreamFree(nint stream);

    // Events
    [LibraryImport(Lib)]
    public static partial int virEventRegisterDefaultImpl();

    [LibraryImport(Lib)]
    public static partial int virEventRunDefaultImpl();

    [LibraryImport(Lib)]
    public static unsafe partial int virConnectDomainEventRegisterAny(ConnectionHandle conn, nint dom, int eventId, delegate* unmanaged<nint, nint, int, int, nint, int> cb, nint opaque, nint freeCb);

    [LibraryImport(Lib)]
    public static partial int virConnectDomainEventDeregisterAny(ConnectionHandle conn, int callbackId);

    // Errors
    [LibraryImport(Lib)]
    public static unsafe partial void virSetErrorFunc(nint userData, delegate* unmanaged<nint, nint, void> handler);

    [LibraryImport(Lib)]
    public static partial int virGetLastErrorCode();

    [LibraryImport(Lib)]
    public static partial int virGetLastErrorDomain();

    [LibraryImport(Lib)]
    public static partial nint virGetLastErrorMessage();

    [LibraryImport(Lib)]
    public static partial void virResetLastError();

    /// <summary>libvirt-qemu.so.0: a command for qemu-guest-agent in the domain; the answer is a string to free.</summary>
    [LibraryImport("libvirt-qemu.so.0", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint virDomainQemuAgentCommand(DomainHandle dom, string cmd, int timeout, uint flags);

    [LibraryImport("libc", EntryPoint = "free")]
    public static partial void Free(nint ptr);

    /// <summary>Reads a string libvirt allocated and frees it with libc's free, as libvirt asks.</summary>
    public static string? TakeString(nint ptr)
    {
        if (ptr == 0)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8(ptr);
        }
        finally
        {
            Free(ptr);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct NodeInfoNative
    {
        public fixed byte Model[32];
        public ulong MemoryKiB; // unsigned long: 64 bits on Linux x86_64
        public uint Cpus;
        public uint Mhz;
        public uint Nodes;
        public uint Sockets;
        public uint Cores;
        public uint Threads;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct DomainInfoNative
    {
        public byte State;
        public ulong MaxMemKiB;
        public ulong MemoryKiB;
        public ushort VirtCpus;
        public ulong CpuTimeNs;
    }
}
