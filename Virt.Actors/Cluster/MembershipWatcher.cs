using Akka.Actor;
using Akka.Cluster;
using Virt.Actors.Balancer;
using Virt.Actors.Fencing;

namespace Virt.Actors.Cluster;

/// <summary>
/// On every node: passes each host's downing and removal to the fencer and the balancer (through their proxies,
/// which hold messages while a singleton moves). The singletons subscribe to membership themselves, but when the
/// lost host was the one running them, they start elsewhere only after its removal and never see it: this is how
/// they still hear of it at once, from the survivors.
/// </summary>
internal sealed class MembershipWatcher : ReceiveActor
{
    public MembershipWatcher(IActorRef fencer, IActorRef balancer)
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        Receive<ClusterEvent.MemberDowned>(downed =>
        {
            if (!downed.Member.UniqueAddress.Equals(cluster.SelfUniqueAddress) && NodeRole.NameIn(downed.Member.Roles) is { } host)
                fencer.Tell(new FencerProtocol.EnsureFenced(host, downed.Member.UniqueAddress.Uid, "downed"));
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            if (!removed.Member.UniqueAddress.Equals(cluster.SelfUniqueAddress) && NodeRole.NameIn(removed.Member.Roles) is { } host)
                balancer.Tell(new BalancerProtocol.HostRemoved(host, removed.Member.UniqueAddress.Uid, removed.PreviousStatus == MemberStatus.Down));
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<FencerProtocol.FenceStatus>(_ => { }); // the fencer's answer to the watcher's question: the balancer hears it too
    }

    public static Props Props(IActorRef fencer, IActorRef balancer) => Akka.Actor.Props.Create(() => new MembershipWatcher(fencer, balancer));

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberDowned), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
}
