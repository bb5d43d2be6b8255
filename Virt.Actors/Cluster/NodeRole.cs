namespace Virt.Actors.Cluster;

/// <summary>Every member carries its Virt node name as a cluster role (<c>node.hv-01</c>), so any node can name every member.</summary>
public static class NodeRole
{
    private const string Prefix = "node.";

    /// <summary>
    /// Every Virt member's common role, the vm shard region's. A region with a role makes its coordinator wait for
    /// that role's min-nr-of-members (1) instead of the cluster's: min-members gates the cluster's formation, but
    /// must not stop a last survivor (with etcd, lease-majority keeps one) from placing shards.
    /// </summary>
    public const string Member = "node";

    public static string Of(string nodeName) => Prefix + nodeName;

    public static string? NameIn(IEnumerable<string> roles) => roles.FirstOrDefault(r => r.StartsWith(Prefix, StringComparison.Ordinal))?[Prefix.Length..];

    /// <summary>The roles an operator gave (<c>hypervisor</c>...), without Virt's own.</summary>
    public static IEnumerable<string> Others(IEnumerable<string> roles) => roles.Where(r => r != Member && !r.StartsWith(Prefix, StringComparison.Ordinal));
}
