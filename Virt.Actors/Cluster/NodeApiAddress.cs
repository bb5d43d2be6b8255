using Akka.Actor;
using Akka.Cluster;
using Virt.Actors.Persistence;

namespace Virt.Actors.Cluster;

/// <summary>
/// Where a node's HTTP API is reached (<c>host:port</c>), asked of that node itself at the well-known path
/// <c>/user/api</c>: only the node knows the port its API really listens on (0 in <c>virt.api.listen</c> picks one)
/// and what <c>virt.node.address</c> says. A node serving what only another node can (a VM's serial console) asks it.
/// </summary>
public static class NodeApiAddress
{
    public const string ActorName = "api";

    public sealed record Get : IVirtSerializable;

    /// <param name="HostPort">null: the API is not listening yet.</param>
    public sealed record Answer(string? HostPort) : IVirtSerializable;

    /// <summary>The actor that answers <see cref="Get"/> with <paramref name="address"/> as it is at the time of asking.</summary>
    public static Props Props(Func<string?> address) => Akka.Actor.Props.Create(() => new Responder(address));

    /// <summary>The API address of the Virt node <paramref name="node"/> as that node gives it; null when it is not a member or does not answer.</summary>
    public static async Task<string?> Of(ActorSystem system, string node, TimeSpan timeout)
    {
        var member = Akka.Cluster.Cluster.Get(system).State.Members.FirstOrDefault(m => m.HasRole(NodeRole.Of(node)) && m.Status is MemberStatus.Up or MemberStatus.Leaving or MemberStatus.WeaklyUp or MemberStatus.Joining);
        if (member is null)
            return null;
        try
        {
            var answer = await system.ActorSelection(new RootActorPath(member.Address) / "user" / ActorName).Ask<Answer>(new Get(), timeout);
            return answer.HostPort;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    private sealed class Responder : ReceiveActor
    {
        public Responder(Func<string?> address) => Receive<Get>(_ => Sender.Tell(new Answer(address())));
    }
}
