using System.Runtime.InteropServices;

namespace Virt.Node.Libvirt;

/// <summary>A libvirt call failed. Carries libvirt's error code, domain and message.</summary>
public class LibvirtException(int code, int errorDomain, string message, string operation)
    : Exception($"{operation}: {message} (libvirt error {code})")
{
    public int Code { get; } = code;

    public int ErrorDomain { get; } = errorDomain;

    public string LibvirtMessage { get; } = message;

    public string Operation { get; } = operation;

    /// <summary>The connection itself is gone (daemon died, socket closed): reconnect.</summary>
    public bool IsConnectionLost => Code is ErrorCodes.NoConnect or ErrorCodes.InvalidConn or ErrorCodes.SystemError or ErrorCodes.Rpc or ErrorCodes.OpenFailed;

    /// <summary>Reads libvirt's per-thread last error right after a failed call on this thread.</summary>
    internal static LibvirtException Last(string operation)
    {
        var code = LibvirtNative.virGetLastErrorCode();
        var domain = LibvirtNative.virGetLastErrorDomain();
        var message = Marshal.PtrToStringUTF8(LibvirtNative.virGetLastErrorMessage()) ?? "unknown libvirt error";
        LibvirtNative.virResetLastError();
        return code switch
        {
            ErrorCodes.NoDomain => new DomainNotFoundException(code, domain, message, operation),
            _ => new LibvirtException(code, domain, message, operation),
        };
    }

    /// <summary>Values of libvirt's virErrorNumber that Virt reacts to.</summary>
    public static class ErrorCodes
    {
        public const int NoConnect = 5;
        public const int InvalidConn = 6;
        public const int XmlError = 27;
        public const int DomainExists = 28;
        public const int OpenFailed = 30;
        public const int SystemError = 38;
        public const int Rpc = 39;
        public const int NoDomain = 42;
        public const int OperationInvalid = 55;
    }
}

/// <summary>No such domain (VIR_ERR_NO_DOMAIN).</summary>
public sealed class DomainNotFoundException(int code, int errorDomain, string message, string operation)
    : LibvirtException(code, errorDomain, message, operation);
