namespace Virt.Actors.Cluster;

/// <summary>Every member carries its Virt node name as a cluster role (<c>node.hv-01</c>), so any node can name every member.</summary>
public static class NodeRole
{
    private const string Prefix = "node.";

    public static string Of(string nodeName) => Prefix + nodeName;

    public static string? NameIn(IEnumerable<string> roles) => roles.FirstOrDefault(r => r.StartsWith(Prefix, StringComparison.Ordinal))?[Prefix.Length..];

    /// <summary>The roles an operator gave (<c>hypervisor</c>...), without Virt's own.</summary>
    public static IEnumerable<string> Others(IEnumerable<string> roles) => roles.Where(r => !r.StartsWith(Prefix, StringComparison.Ordinal));
}
