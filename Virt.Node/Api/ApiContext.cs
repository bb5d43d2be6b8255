using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Options;
using Virt.Actors.Index;
using Virt.Actors.Vm;
using Virt.Node.Agent;
using Virt.Node.Hosting;

namespace Virt.Node.Api;

/// <summary>What every endpoint needs: the actors (found through the registry), the API's timeout, the VM defaults. Asks happen here, at the edge.</summary>
internal sealed class ApiContext(ActorRegistry registry, ActorSystem system, IOptions<ApiOptions> api, IOptions<VmDefaults> defaults, IOptions<NodeOptions> node)
{
    public ActorSystem System => system;

    public IActorRef Vms => registry.Get<VmRegion>();

    public IActorRef Index => registry.Get<VmIndexKey>();

    public IActorRef Agent => registry.Get<NodeAgentKey>();

    /// <summary>The balancer singleton, through this node's proxy.</summary>
    public IActorRef Balancer => registry.Get<Virt.Actors.Balancer.BalancerKey>();

    /// <summary>The fencer singleton, through this node's proxy.</summary>
    public IActorRef Fencer => registry.Get<Virt.Actors.Fencing.FencerKey>();

    /// <summary>The hosts' reachability as the balancer has it (briefly reused when all are reachable).</summary>
    public HostAvailability Hosts => field ??= new HostAvailability(this);

    public TimeSpan Timeout => api.Value.Timeout;

    public VmDefaults Defaults => defaults.Value;

    public string NodeName => node.Value.NodeName;

    public DateTimeOffset Now => system.Scheduler.Now;

    public Task<T> Ask<T>(IActorRef actor, object message) => actor.Ask<T>(message, Timeout);

    /// <summary>Every VM the index knows; null when it did not answer within <see cref="Timeout"/> (answer with <see cref="Problems.Timeout"/>).</summary>
    public async Task<VmIndexProtocol.Listing?> Listing()
    {
        try
        {
            return await Ask<VmIndexProtocol.Listing>(Index, new VmIndexProtocol.List());
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    /// <summary>The vm region on every member, its shards and their entities (the shard coordinator asks each region).</summary>
    public Task<Akka.Cluster.Sharding.ClusterShardingStats> ShardingStats() =>
        Vms.Ask<Akka.Cluster.Sharding.ClusterShardingStats>(new Akka.Cluster.Sharding.GetClusterShardingStats(Timeout), Timeout);

    public VmView View(VmState state) => VmView.Of(state, Defaults, Now);
}
