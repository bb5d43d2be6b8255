using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Etcdserverpb;
using Google.Protobuf;
using Virt.Tests.Support;

namespace Virt.Tests.Cluster;

/// <summary>
/// Three real virt-node processes with <c>virt.cluster.etcd.endpoints</c> on a real 3-member etcd: the balancer and
/// the shard coordinator run where etcd says their lease is, the split brain resolver takes its lease before it downs
/// a lost node, and the last node standing after two kill -9s takes every lease and keeps serving. All read in etcd.
/// </summary>
public sealed class EtcdClusterNodesTests : IAsyncLifetime
{
    private const string Prefix = "/virt/leases/";
    private const string Balancer = Prefix + "virt-singleton-akka://virt/user/balancer";
    private const string Coordinator = Prefix + "virt-singleton-akka://virt/system/sharding/vmCoordinator";
    private const string Resolver = Prefix + "virt-akka-sbr";

    private EtcdCluster _etcd = null!;
    private NodeCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _etcd = await EtcdCluster.StartAsync();
        var postgres = await (await PostgresServer.Shared).CreateDatabase("etcd-cluster");
        var endpoints = "[" + string.Join(",", _etcd.Endpoints.Select(e => $"\"{e}\"")) + "]";
        _cluster = await NodeCluster.Start(postgres, [(8, 8192), (8, 8192), (8, 8192)], $"virt.cluster.etcd.endpoints={endpoints}");
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _etcd.DisposeAsync();
    }

    [Fact]
    public async Task The_singletons_run_where_etcd_says_their_lease_is_the_resolver_leases_before_downing_and_the_last_node_takes_every_lease()
    {
        string At(int i) => $"virt@127.0.0.1:{_cluster.Ports[i]}"; // Akka's Address.HostPort(), the lease owner
        int Index(string owner) => Enumerable.Range(0, 3).Single(i => At(i) == owner);

        // Both singletons hold their leases, on one member; the status shows the same holders as etcd.
        var holder = await Eventually.Until(() => _etcd.OwnerAsync(Balancer), o => o is not null, "the balancer holds its lease in etcd", 60);
        await Eventually.Until(() => _etcd.OwnerAsync(Coordinator), o => o is not null, "the shard coordinator holds its lease in etcd", 60);
        var status = await Eventually.Until(() => _cluster[0].Get("/v1/cluster/status"), s => s["singletons"]!["balancer"] is not null, "status names the balancer", 30);
        Assert.Equal(NodeCluster.Name(Index(holder!)), status["singletons"]!["balancer"]!.GetValue<string>());
        Assert.Contains(status["leases"]!.AsArray(), l => l!["for"]?.GetValue<string>() == "balancer" && l["holder"]!.GetValue<string>() == NodeCluster.Name(Index(holder!)));

        // kill -9 of a member that holds no singleton: the survivors' resolver takes its lease in etcd before downing it.
        var holderIndex = Index(holder!);
        var victim = Enumerable.Range(0, 3).First(i => i != holderIndex);
        var survivor = Enumerable.Range(0, 3).Single(i => i != holderIndex && i != victim);
        var before = await Revision();
        _cluster[victim].Kill();
        await WaitForMembers(holderIndex, 2);
        var resolvers = await OwnersSince(before, Resolver);
        Assert.Contains(resolvers, o => o == At(holderIndex) || o == At(survivor));
        Assert.DoesNotContain(At(victim), resolvers);

        // kill -9 of the singletons' member, one of two: with no majority left the lease decides; the last node takes
        // the resolver's lease, then the singletons' once the dead holder's have run out, and serves.
        before = await Revision();
        _cluster[holderIndex].Kill();
        await WaitForMembers(survivor, 1);
        Assert.Contains(At(survivor), await OwnersSince(before, Resolver));
        await Eventually.Until(() => _etcd.OwnerAsync(Balancer), o => o == At(survivor), "the last node holds the balancer's lease", 60);
        await Eventually.Until(() => _etcd.OwnerAsync(Coordinator), o => o == At(survivor), "the last node holds the shard coordinator's lease", 60);

        // The region finds the new coordinator and the shards of the dead start again: until then a command may time
        // out (504, not applied or applied: a retry says which), as a user retrying would see.
        var timedOut = false;
        var created = await Eventually.Until(async () =>
        {
            using var create = await _cluster[survivor].Http.PostAsync("/v1/vms", new StringContent("""{"name": "after", "vcpus": 1, "memory": "512MiB"}""", Encoding.UTF8, "application/json"));
            timedOut |= create.StatusCode == HttpStatusCode.GatewayTimeout;
            return create.StatusCode;
        }, code => code != HttpStatusCode.GatewayTimeout, "a create on the last node is answered", 60);
        Assert.True(created == HttpStatusCode.Created || (timedOut && created == HttpStatusCode.Conflict), $"create answered {created}");
        var started = await Eventually.Until(async () =>
        {
            using var start = await _cluster[survivor].Http.PostAsync("/v1/vms/after/start", null);
            return start.StatusCode;
        }, code => code != HttpStatusCode.GatewayTimeout, "a start on the last node is answered", 60);
        Assert.Equal(HttpStatusCode.Accepted, started);
        await Eventually.Until(() => _cluster[survivor].Get("/v1/node"),
            n => n["domains"]!.AsArray().Any(d => d!["name"]!.GetValue<string>() == "after" && d["state"]!.GetValue<string>() == "running"),
            "the VM runs in the last node's libvirt", 60);
    }

    private Task WaitForMembers(int asked, int count) =>
        Eventually.Until(() => _cluster[asked].Get("/v1/cluster"),
            s => s["members"]!.AsArray().Count == count && s["members"]!.AsArray().All(m => m!["status"]!.GetValue<string>() == "up"),
            $"{count} member(s) left, all up, as {NodeCluster.Name(asked)} sees it", 60);

    private async Task<long> Revision()
    {
        using var client = _etcd.Client();
        return (await client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(Prefix), CountOnly = true })).Header.Revision;
    }

    /// <summary>Every owner <paramref name="key"/> had at some revision after <paramref name="after"/>, read from etcd's history.</summary>
    private async Task<List<string>> OwnersSince(long after, string key)
    {
        using var client = _etcd.Client();
        var now = await Revision();
        var owners = new List<string>();
        for (var revision = after + 1; revision <= now; revision++)
        {
            var range = await client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key), Revision = revision });
            if (range.Kvs.Count == 1 && (owners.Count == 0 || owners[^1] != range.Kvs[0].Value.ToStringUtf8()))
                owners.Add(range.Kvs[0].Value.ToStringUtf8());
        }

        return owners;
    }
}
