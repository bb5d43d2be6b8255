using Microsoft.Win32.SafeHandles;

namespace Virt.Node.Libvirt;

/// <summary>A virConnectPtr; closed exactly once, whatever happens.</summary>
internal sealed class ConnectionHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle() => LibvirtNative.virConnectClose(handle) >= 0;
}

/// <summary>A virDomainPtr (a reference libvirt counts); freed exactly once.</summary>
internal sealed class DomainHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    public DomainHandle(nint existing)
        : this() => SetHandle(existing);

    protected override bool ReleaseHandle() => LibvirtNative.virDomainFree(handle) >= 0;
}
