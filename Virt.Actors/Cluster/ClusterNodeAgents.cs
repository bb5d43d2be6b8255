using Akka.Actor;
using Akka.Cluster;

namespace Virt.Actors.Cluster;

/// <summary>
/// Finds a host's agent at the well-known path <c>/user/node</c> of the cluster member whose role names that host,
/// from the cluster state this node sees (no asking: the membership is gossiped to every node).
/// </summary>
public sealed class ClusterNodeAgents(ActorSystem system) : INodeAgents
{
    public const string AgentName = "node";

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(system);

    public NodeAgentAddress? Find(string node)
    {
        var role = NodeRole.Of(node);
        var member = _cluster.State.Members.FirstOrDefault(m => m.HasRole(role) && m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.Joining or MemberStatus.WeaklyUp);
        return member is null
            ? null
            : new NodeAgentAddress(system.ActorSelection(new RootActorPath(member.Address) / "user" / AgentName), member.UniqueAddress.Uid);
    }
}
