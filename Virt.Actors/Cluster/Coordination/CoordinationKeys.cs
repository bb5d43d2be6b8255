namespace Virt.Actors.Cluster.Coordination;

/// <summary>
/// Where Virt keeps its coordination state (documented in the README):
/// <c>/virt/members/{node}</c> a node's membership record, bound to its lease;
/// <c>/virt/singletons/{name}</c> the holder of a cluster singleton, bound to the holder's lease.
/// </summary>
public static class CoordinationKeys
{
    public const string Members = "/virt/members/";
    public const string Singletons = "/virt/singletons/";

    public static string Member(string node) => Members + node;

    public static string Singleton(string name) => Singletons + name;
}
