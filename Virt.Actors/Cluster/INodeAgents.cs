using Akka.Actor;

namespace Virt.Actors.Cluster;

/// <summary>Where a host's node agent is, and which incarnation of that host it is (the fencing token's host half).</summary>
public interface INodeAgents
{
    /// <summary>The agent of <paramref name="node"/> and its current incarnation; null when no member of the cluster is that node.</summary>
    NodeAgentAddress? Find(string node);
}

/// <param name="Incarnation">The member's unique address uid: a restarted host is a new incarnation.</param>
public sealed record NodeAgentAddress(ICanTell Agent, long Incarnation);
