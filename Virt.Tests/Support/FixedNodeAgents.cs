using Akka.Actor;
using Virt.Actors.Cluster;

namespace Virt.Tests.Support;

/// <summary>Every host's agent is one actor (a probe), of one incarnation: for VM entities under test.</summary>
public sealed class FixedNodeAgents(IActorRef agent, long incarnation = 1) : INodeAgents
{
    public NodeAgentAddress Find(string node) => new(agent, incarnation);
}
