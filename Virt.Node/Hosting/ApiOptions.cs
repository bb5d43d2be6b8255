using System.Net;
using Microsoft.Extensions.Configuration;
using Virt.Hocon;

namespace Virt.Node.Hosting;

/// <summary>Bound from <c>virt.api</c>.</summary>
internal sealed class ApiOptions : IValidatedOptions
{
    /// <summary>host:port the HTTP API listens on (port 0: any free port, announced in the log).</summary>
    public string Listen { get; set; } = "127.0.0.1:9110";

    /// <summary>How long the API waits for the VM actors before answering 504.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request body accepted; a bigger one is refused with 413.</summary>
    [ConfigurationKeyName("max-body")]
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    public IPEndPoint Endpoint()
    {
        if (IPEndPoint.TryParse(Listen, out var endpoint) && Listen.Contains(':'))
            return endpoint;
        if (Listen.Split(':') is [var host, var port] && host == "localhost" && int.TryParse(port, out var p) && p is >= 0 and < 65536)
            return new IPEndPoint(IPAddress.Loopback, p);
        throw new FormatException($"virt.api.listen '{Listen}' is not host:port (for example 127.0.0.1:9110 or [::1]:9110)");
    }

    public IEnumerable<(string Key, string Problem)> Problems()
    {
        if (!(IPEndPoint.TryParse(Listen, out _) && Listen.Contains(':')) && !(Listen.Split(':') is ["localhost", var port] && int.TryParse(port, out var p) && p is >= 0 and < 65536))
            yield return ("listen", $"'{Listen}' is not address:port (for example 127.0.0.1:9110, 0.0.0.0:9110 or [::1]:9110)");
        if (Timeout <= TimeSpan.Zero)
            yield return ("timeout", "must be a positive duration, like 10s");
        if (MaxBodyBytes < 1024)
            yield return ("max-body", "must be at least 1KiB");
    }
}
