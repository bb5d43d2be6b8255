using System.Net;

namespace Virt.Node.Hosting;

/// <summary>
/// The <c>host:port</c> other nodes reach this node's API at: <c>virt.node.address</c> when set; else the address
/// the API is bound to (the real port when <c>virt.api.listen</c> asked for port 0), with a wildcard host
/// (0.0.0.0, [::]) replaced by the host name the cluster reaches this node at (<c>virt.cluster.public-host</c>).
/// </summary>
internal static class AdvertisedApiAddress
{
    /// <param name="configured"><c>virt.node.address</c>.</param>
    /// <param name="bound">What Kestrel listens on (<c>http://127.0.0.1:9110</c>); empty before it started.</param>
    /// <param name="publicHost">The cluster's host name for this node.</param>
    /// <returns>null while the API is not listening and nothing is configured.</returns>
    public static string? Resolve(string configured, IEnumerable<string> bound, string publicHost)
    {
        if (!string.IsNullOrWhiteSpace(configured))
            return configured;
        var first = bound.FirstOrDefault();
        if (first is null || !Uri.TryCreate(first, UriKind.Absolute, out var uri))
            return null;
        var host = uri.Host;
        var wildcard = host is "0.0.0.0" or "[::]" or "::" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)));
        if (wildcard)
            host = publicHost.Contains(':') && !publicHost.StartsWith('[') ? $"[{publicHost}]" : publicHost;
        return $"{host}:{uri.Port}";
    }
}
