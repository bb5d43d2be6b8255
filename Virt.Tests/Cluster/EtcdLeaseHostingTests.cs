using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Virt.Actors.Cluster;
using Virt.Tests.Support;
using static Virt.Tests.Cluster.EtcdLeaseRig;

namespace Virt.Tests.Cluster;

/// <summary>
/// The etcd lease plugged in the Akka.Hosting way, as virt-node composes its actor system: the SBR's lease-majority,
/// a singleton's LeaseImplementation, and <c>akka.cluster.singleton.use-lease</c> for the sharding coordinator.
/// </summary>
public sealed class EtcdLeaseHostingTests : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task With_Akka_Hosting_the_singleton_and_the_sharding_coordinator_run_on_leases_etcd_names_this_node_for()
    {
        var lease = Block(_etcd);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = new HostBuilder().ConfigureServices(services => services.AddAkka("hosting-test", (akka, _) => akka
            .WithRemoting("127.0.0.1", 0)
            .WithClustering(new ClusterOptions { SplitBrainResolver = new LeaseMajorityOption { LeaseImplementation = lease } })
            .WithEtcdLease(lease)
            .AddHocon($"""
                akka.cluster.singleton.use-lease = "{lease.ConfigPath}"
                akka.cluster.singleton.lease-retry-interval = 300ms
                akka.cluster.sharding.distributed-data.durable.keys = []
                """, HoconAddMode.Prepend)
            .WithSingleton<Started>("balancer", Props.Create(() => new Started(started)), new ClusterSingletonOptions { LeaseImplementation = lease, LeaseRetryInterval = TimeSpan.FromMilliseconds(300) })
            .WithShardRegion<Echo>("vm", _ => Props.Create<Echo>(), HashCodeMessageExtractor.Create(10, m => ((Envelope)m).Id, m => ((Envelope)m).Body), new ShardOptions())
            .WithActors((system, _) =>
            {
                var cluster = Akka.Cluster.Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            }))).Build();
        await host.StartAsync();
        try
        {
            await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var system = host.Services.GetRequiredService<ActorSystem>();
            var region = host.Services.GetRequiredService<ActorRegistry>().Get<Echo>();
            Assert.Equal("hi", await region.Ask<string>(new Envelope("vm-1", "hi"), TimeSpan.FromSeconds(30)));

            var self = Akka.Cluster.Cluster.Get(system).SelfAddress.HostPort();
            var owners = await Owners();
            Assert.Equal(self, owners[$"/virt/leases/hosting-test-singleton-akka://hosting-test/user/balancer"]);
            Assert.Equal(self, Assert.Single(owners, o => o.Key.EndsWith("/system/sharding/vmCoordinator", StringComparison.Ordinal)).Value);

            var sbr = system.Settings.Config.GetConfig("akka.cluster.split-brain-resolver");
            Assert.Equal("lease-majority", sbr.GetString("active-strategy"));
            Assert.Equal(lease.ConfigPath, sbr.GetString("lease-majority.lease-implementation"));

            // A graceful stop hands both leases back at once: nobody waits for a TTL.
            await host.StopAsync();
            Assert.Empty(await Owners());
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private async Task<Dictionary<string, string>> Owners()
    {
        using var client = _etcd.Client();
        var range = await client.GetRangeAsync("/virt/leases/");
        return range.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.Value.ToStringUtf8());
    }

    private sealed record Envelope(string Id, string Body);

    private sealed class Started : ReceiveActor
    {
        public Started(TaskCompletionSource started) => started.TrySetResult();
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<string>(s => Sender.Tell(s));
    }
}
