namespace Virt.Actors.Cluster;

/// <summary>Every member carries its Virt node name as a cluster role (<c>node.hv-01</c>), so any node can name every member.</summary>
public static class NodeRole
{
    public const string Prefix = "node.";

    /// <summary>
    /// Every Virt member's common role, the vm shard region's. A region with a role makes its coordinator wait for
    /// that role's min-nr-of-members (1) instead of the cluster's: min-members gates the cluster's formation, but
    /// must not stop a last survivor (with etcd, lease-majority keeps one) from placing shards.
    /// </summary>
    public const string Member = "node";

    public static string Of(string nodeName) => Prefix + nodeName;

    /// <summary>The member's Virt node name, or its address for a member that is not a Virt node.</summary>
    public static string NameOf(Akka.Cluster.Member member) => NameIn(member.Roles) ?? member.Address.ToString();

    /// <summary>The member that is the Virt node <paramref name="nodeName"/>, if any.</summary>
    public static Akka.Cluster.Member? Find(IEnumerable<Akka.Cluster.Member> members, string nodeName) => members.FirstOrDefault(m => m.HasRole(Of(nodeName)));

    public static string? NameIn(IEnumerable<string> roles) => roles.FirstOrDefault(r => r.StartsWith(Prefix, StringComparison.Ordinal))?[Prefix.Length..];

    /// <summary>The roles an operator gave (<c>hypervisor</c>...), without Virt's own.</summary>
    public static IEnumerable<string> Others(IEnumerable<string> roles) => roles.Where(r => r != Member && !r.StartsWith(Prefix, StringComparison.Ordinal));
}
