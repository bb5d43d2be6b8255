using System.Runtime.InteropServices;
using System.Text;

namespace Virt.Node.Libvirt;

/// <summary>
/// One connection to a libvirt driver (<c>qemu:///system</c>, <c>test:///path/host.xml</c>, a remote URI).
/// Every failure becomes a <see cref="LibvirtException"/> with libvirt's code and message. Thread-safe as libvirt
/// is; Virt still funnels calls through one worker so operations on a host happen in order.
/// </summary>
internal sealed class LibvirtConnection : IDisposable
{
    private readonly ConnectionHandle _handle;
    private readonly List<(int Id, GCHandle Sink)> _subscriptions = [];
    private GCHandle _closeSink;

    private LibvirtConnection(ConnectionHandle handle, string uri)
    {
        _handle = handle;
        Uri = uri;
    }

    public string Uri { get; }

    public bool IsAlive => !_handle.IsClosed && LibvirtNative.virConnectIsAlive(_handle) == 1;

    /// <summary>Opens <paramref name="uri"/> without authentication callbacks.</summary>
    public static LibvirtConnection Open(string uri)
    {
        LibvirtEventLoop.EnsureStarted();
        var handle = LibvirtNative.virConnectOpen(uri);
        if (handle.IsInvalid)
            throw LibvirtException.Last($"open {uri}");
        return new LibvirtConnection(handle, uri);
    }

    /// <summary>Probes the peer every <paramref name="interval"/>; after <paramref name="count"/> misses the connection closes. Local drivers do not support it.</summary>
    public bool TrySetKeepAlive(TimeSpan interval, uint count) =>
        LibvirtNative.virConnectSetKeepAlive(_handle, Math.Max(1, (int)interval.TotalSeconds), count) == 0 || Reset();

    public unsafe HostInfo HostInfo()
    {
        if (LibvirtNative.virNodeGetInfo(_handle, out var info) < 0)
            throw LibvirtException.Last("virNodeGetInfo");
        var model = Encoding.UTF8.GetString(new ReadOnlySpan<byte>(info.Model, 32)).TrimEnd('\0');
        return new HostInfo(model, (int)info.Cpus, (long)info.MemoryKiB * 1024, (int)info.Mhz);
    }

    public string DriverType() => Marshal.PtrToStringUTF8(LibvirtNative.virConnectGetType(_handle)) ?? "unknown";

    /// <summary>Every domain libvirt knows, running or defined.</summary>
    public unsafe List<DomainSummary> ListDomains()
    {
        nint array;
        var count = LibvirtNative.virConnectListAllDomains(_handle, &array, 0);
        if (count < 0)
            throw LibvirtException.Last("virConnectListAllDomains");
        var result = new List<DomainSummary>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                using var dom = new DomainHandle(((nint*)array)[i]);
                LibvirtNative.virDomainGetState(dom, out var state, out _, 0);
                var id = LibvirtNative.virDomainGetID(dom);
                result.Add(new DomainSummary(Name(dom.DangerousGetHandle()), Uuid(dom.DangerousGetHandle()), (DomainRunState)state, id == uint.MaxValue ? null : (int)id));
            }
        }
        finally
        {
            LibvirtNative.Free(array);
        }

        return result;
    }

    /// <summary>Defines (or redefines) a persistent domain; libvirt validates the XML against its schema.</summary>
    public void Define(string xml)
    {
        using var dom = LibvirtNative.virDomainDefineXMLFlags(_handle, xml, 1 /* VIR_DOMAIN_DEFINE_VALIDATE */);
        if (dom.IsInvalid)
            throw LibvirtException.Last("virDomainDefineXML");
    }

    /// <summary>Removes the definition, snapshot metadata included (VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA).</summary>
    public void Undefine(string name) => Call(name, "virDomainUndefine", d => LibvirtNative.virDomainUndefineFlags(d, 2));

    public void Start(string name) => Call(name, "virDomainCreate", LibvirtNative.virDomainCreate);

    /// <summary>Asks the guest to shut down (ACPI); returns before it has.</summary>
    public void Shutdown(string name) => Call(name, "virDomainShutdown", LibvirtNative.virDomainShutdown);

    /// <summary>Pulls the plug.</summary>
    public void Destroy(string name) => Call(name, "virDomainDestroy", LibvirtNative.virDomainDestroy);

    public void Reboot(string name) => Call(name, "virDomainReboot", d => LibvirtNative.virDomainReboot(d, 0));

    public void Reset(string name) => Call(name, "virDomainReset", d => LibvirtNative.virDomainReset(d, 0));

    public void Suspend(string name) => Call(name, "virDomainSuspend", LibvirtNative.virDomainSuspend);

    public void Resume(string name) => Call(name, "virDomainResume", LibvirtNative.virDomainResume);

    /// <summary>Current state, or null when libvirt has no such domain.</summary>
    public (DomainRunState State, int Reason)? State(string name)
    {
        using var dom = LibvirtNative.virDomainLookupByName(_handle, name);
        if (dom.IsInvalid)
        {
            var error = LibvirtException.Last("virDomainLookupByName");
            return error is DomainNotFoundException ? null : throw error;
        }

        if (LibvirtNative.virDomainGetState(dom, out var state, out var reason, 0) < 0)
            throw LibvirtException.Last("virDomainGetState");
        return ((DomainRunState)state, reason);
    }

    public (DomainRunState State, int VirtCpus, long MemoryBytes, long MaxMemoryBytes, TimeSpan CpuTime) Info(string name)
    {
        using var dom = Lookup(name);
        if (LibvirtNative.virDomainGetInfo(dom, out var info) < 0)
            throw LibvirtException.Last("virDomainGetInfo");
        return ((DomainRunState)info.State, info.VirtCpus, (long)info.MemoryKiB * 1024, (long)info.MaxMemKiB * 1024, TimeSpan.FromTicks((long)(info.CpuTimeNs / 100)));
    }

    /// <summary>Sends <paramref name="command"/> (JSON) to qemu-guest-agent in the domain, waiting at most <paramref name="timeoutSeconds"/>; its answer.</summary>
    public string AgentCommand(string name, string command, int timeoutSeconds)
    {
        using var dom = Lookup(name);
        return LibvirtNative.TakeString(LibvirtNative.virDomainQemuAgentCommand(dom, command, timeoutSeconds, 0)) ?? throw LibvirtException.Last("virDomainQemuAgentCommand");
    }

    public string Xml(string name)
    {
        using var dom = Lookup(name);
        return LibvirtNative.TakeString(LibvirtNative.virDomainGetXMLDesc(dom, 0)) ?? throw LibvirtException.Last("virDomainGetXMLDesc");
    }

    /// <summary>
    /// The domain's serial console as a blocking stream (VIR_DOMAIN_CONSOLE_FORCE: a session already open, say a
    /// forgotten one, is taken over).
    /// </summary>
    public ConsoleStream OpenConsole(string name)
    {
        using var dom = Lookup(name);
        var stream = LibvirtNative.virStreamNew(_handle, 0);
        if (stream == 0)
            throw LibvirtException.Last("virStreamNew");
        if (LibvirtNative.virDomainOpenConsole(dom, 0, stream, 1) < 0)
        {
            var error = LibvirtException.Last("virDomainOpenConsole");
            LibvirtNative.virStreamFree(stream);
            throw error;
        }

        return new ConsoleStream(stream);
    }

    /// <summary>Sends key codes (codeset 0 = Linux keycodes), held for <paramref name="holdMs"/>.</summary>
    public unsafe void SendKey(string name, uint[] keycodes, uint holdMs = 0, uint codeset = 0)
    {
        using var dom = Lookup(name);
        fixed (uint* keys = keycodes)
        {
            if (LibvirtNative.virDomainSendKey(dom, codeset, holdMs, keys, keycodes.Length, 0) < 0)
                throw LibvirtException.Last("virDomainSendKey");
        }
    }

    /// <summary>Delivers lifecycle events of every domain to <paramref name="sink"/>, on libvirt's event thread.</summary>
    public unsafe void SubscribeLifecycle(Action<DomainLifecycleEvent> sink)
    {
        var handle = GCHandle.Alloc(sink);
        var id = LibvirtNative.virConnectDomainEventRegisterAny(_handle, 0, 0 /* VIR_DOMAIN_EVENT_ID_LIFECYCLE */, &OnLifecycle, GCHandle.ToIntPtr(handle), 0);
        if (id < 0)
        {
            handle.Free();
            throw LibvirtException.Last("virConnectDomainEventRegisterAny");
        }

        _subscriptions.Add((id, handle));
    }

    /// <summary>Called once if the connection closes under us (daemon gone, keepalive timeout). Remote drivers only.</summary>
    public unsafe bool TryOnClosed(Action<int> sink)
    {
        _closeSink = GCHandle.Alloc(sink);
        if (LibvirtNative.virConnectRegisterCloseCallback(_handle, &OnClose, GCHandle.ToIntPtr(_closeSink), 0) == 0)
            return true;
        _closeSink.Free();
        return Reset();
    }

    public unsafe void Dispose()
    {
        if (_handle.IsClosed)
            return;
        foreach (var (id, sink) in _subscriptions)
        {
            LibvirtNative.virConnectDomainEventDeregisterAny(_handle, id);
            sink.Free();
        }

        _subscriptions.Clear();
        if (_closeSink.IsAllocated)
        {
            LibvirtNative.virConnectUnregisterCloseCallback(_handle, &OnClose);
            _closeSink.Free();
        }

        _handle.Dispose();
    }

    private DomainHandle Lookup(string name)
    {
        var dom = LibvirtNative.virDomainLookupByName(_handle, name);
        if (!dom.IsInvalid)
            return dom;
        dom.Dispose();
        throw LibvirtException.Last($"lookup of domain {name}");
    }

    private void Call(string name, string operation, Func<DomainHandle, int> call)
    {
        using var dom = Lookup(name);
        if (call(dom) < 0)
            throw LibvirtException.Last($"{operation} {name}");
    }

    private static bool Reset()
    {
        LibvirtNative.virResetLastError();
        return false;
    }

    private static string Name(nint dom) => Marshal.PtrToStringUTF8(LibvirtNative.virDomainGetName(dom)) ?? "";

    private static unsafe string Uuid(nint dom)
    {
        var buffer = stackalloc byte[37];
        return LibvirtNative.virDomainGetUUIDString(dom, buffer) == 0 ? Marshal.PtrToStringUTF8((nint)buffer) ?? "" : "";
    }

    [UnmanagedCallersOnly]
    private static int OnLifecycle(nint conn, nint dom, int type, int detail, nint opaque)
    {
        try
        {
            var sink = (Action<DomainLifecycleEvent>)GCHandle.FromIntPtr(opaque).Target!;
            sink(new DomainLifecycleEvent(Name(dom), Uuid(dom), (DomainEventType)type, detail));
        }
        catch
        {
            // Never let an exception unwind into libvirt's C stack.
        }

        return 0;
    }

    [UnmanagedCallersOnly]
    private static void OnClose(nint conn, int reason, nint opaque)
    {
        try
        {
            ((Action<int>)GCHandle.FromIntPtr(opaque).Target!)(reason);
        }
        catch
        {
            // As above.
        }
    }
}
