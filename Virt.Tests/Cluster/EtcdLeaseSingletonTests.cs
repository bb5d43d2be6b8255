using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Event;
using Virt.Tests.Support;
using static Virt.Tests.Cluster.EtcdLeaseRig;

namespace Virt.Tests.Cluster;

/// <summary>
/// A real cluster singleton with <c>akka.cluster.singleton.use-lease</c> on the etcd lease (and the SBR's
/// <c>lease-majority</c> on it too), in a one-node cluster that joins itself.
/// </summary>
public sealed class EtcdLeaseSingletonTests : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task The_singleton_starts_only_once_it_holds_the_lease_and_stops_when_the_lease_is_lost()
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.cluster.singleton.use-lease = "{{LeasePath}}"
            akka.cluster.singleton.lease-retry-interval = 300ms
            akka.cluster.downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
            akka.cluster.split-brain-resolver.active-strategy = lease-majority
            akka.cluster.split-brain-resolver.lease-majority.lease-implementation = "{{LeasePath}}"
            """).WithFallback(Config(Block(_etcd))).WithFallback(ClusterSingleton.DefaultConfig());
        using var kit = Kit(config, "singleton-test");
        var system = kit.Sys;
        var started = kit.CreateTestProbe("singleton");
        var log = kit.CreateTestProbe("log");
        system.EventStream.Subscribe(log.Ref, typeof(Info));
        system.EventStream.Subscribe(log.Ref, typeof(Error));

        // Akka names a singleton's lease "<system>-singleton-<manager path>"; another node holds it first.
        var leaseName = $"{system.Name}-singleton-{((ExtendedActorSystem)system).Guardian.Path / "balancer"}";
        var elsewhere = Lease(system, leaseName, "elsewhere:4053");
        Assert.True(await elsewhere.Acquire());

        system.ActorOf(ClusterSingletonManager.Props(Props.Create(() => new Reporter(started.Ref)), PoisonPill.Instance, ClusterSingletonManagerSettings.Create(system)), "balancer");
        var cluster = Akka.Cluster.Cluster.Get(system);
        cluster.Join(cluster.SelfAddress);

        log.FishForMessage(m => m is Info i && i.Message.ToString() == "Acquire lease result False", TimeSpan.FromSeconds(20));
        Assert.False(started.HasMessages, "the singleton started while another node held its lease");
        Assert.Equal("elsewhere:4053", await _etcd.OwnerAsync(elsewhere.Key));

        Assert.True(await elsewhere.Release());
        started.ExpectMsg("started", TimeSpan.FromSeconds(10));
        Assert.Equal(cluster.SelfAddress.HostPort(), await _etcd.OwnerAsync(elsewhere.Key));

        // etcd loses its quorum: the lease is reported lost, the manager stops the singleton, and it cannot get the
        // lease back (nor start the singleton) until etcd has a quorum again.
        _etcd.Pause(1);
        _etcd.Pause(2);
        started.ExpectMsg("stopped", TimeSpan.FromSeconds(15));
        log.FishForMessage(m => m is Error e && e.Message.ToString() == "Failed to get lease (will be retried)", TimeSpan.FromSeconds(20));
        Assert.False(started.HasMessages, "the singleton started again while etcd had no quorum");
        _etcd.Resume(1);
        _etcd.Resume(2);

        started.ExpectMsg("started", TimeSpan.FromSeconds(30));
        Assert.Equal(cluster.SelfAddress.HostPort(), await _etcd.OwnerAsync(elsewhere.Key));
    }

    private sealed class Reporter : ReceiveActor
    {
        private readonly IActorRef _probe;

        public Reporter(IActorRef probe) => _probe = probe;

        protected override void PreStart() => _probe.Tell("started");

        protected override void PostStop() => _probe.Tell("stopped");
    }
}
