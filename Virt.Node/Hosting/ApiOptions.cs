using System.Net;

namespace Virt.Node.Hosting;

/// <summary>Bound from <c>virt.api</c>.</summary>
internal sealed class ApiOptions
{
    /// <summary>host:port the HTTP API listens on (port 0: any free port, announced in the log).</summary>
    public string Listen { get; set; } = "127.0.0.1:9110";

    /// <summary>How long the API waits for the VM actors before answering 504.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    public IPEndPoint Endpoint()
    {
        if (IPEndPoint.TryParse(Listen, out var endpoint) && Listen.Contains(':'))
            return endpoint;
        if (Listen.Split(':') is [var host, var port] && host == "localhost" && int.TryParse(port, out var p) && p is >= 0 and < 65536)
            return new IPEndPoint(IPAddress.Loopback, p);
        throw new FormatException($"virt.api.listen '{Listen}' is not host:port (for example 127.0.0.1:9110 or [::1]:9110)");
    }
}
