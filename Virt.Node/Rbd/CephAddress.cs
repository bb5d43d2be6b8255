namespace Virt.Node.Rbd;

/// <summary>
/// Ceph's entity addresses as text: <c>127.0.0.1:0/3713263485</c> (IP, port, nonce: one client instance). A vector
/// prints as <c>[v2:127.0.0.1:0/1,v1:127.0.0.1:0/1]</c>; the blocklist takes the bare form.
/// </summary>
internal static class CephAddress
{
    /// <summary>The distinct bare addresses of a printed address or address vector.</summary>
    public static IReadOnlyList<string> ParseVector(string text)
    {
        var inner = text.Trim();
        if (inner.StartsWith('[') && inner.EndsWith(']'))
            inner = inner[1..^1];
        return inner.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Bare)
            .Distinct()
            .ToList();
    }

    /// <summary>Without the protocol prefix (v1:, v2:, any:).</summary>
    public static string Bare(string address)
    {
        foreach (var prefix in (ReadOnlySpan<string>)["v1:", "v2:", "any:"])
        {
            if (address.StartsWith(prefix, StringComparison.Ordinal))
                return address[prefix.Length..];
        }

        return address;
    }

    /// <summary>The IP part, <c>127.0.0.1</c> of <c>127.0.0.1:0/12</c> (and <c>::1</c> of <c>[::1]:0/12</c>).</summary>
    public static string Ip(string address)
    {
        var bare = Bare(address);
        if (bare.StartsWith('['))
            return bare[1..bare.IndexOf(']')];
        var colon = bare.IndexOf(':');
        return colon < 0 ? bare : bare[..colon];
    }
}
