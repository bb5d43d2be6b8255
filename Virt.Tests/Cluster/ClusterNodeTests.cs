using System.Diagnostics;
using System.Text.Json.Nodes;
using Virt.Tests.Support;
using Xunit.Abstractions;

namespace Virt.Tests.Cluster;

/// <summary>Real virt-node processes on a real 3-member etcd cluster, looked at through the real <c>virt</c> shell.</summary>
public sealed class ClusterNodeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const double TtlSeconds = 2;
    private readonly List<IAsyncDisposable> _nodes = [];
    private readonly List<IDisposable> _things = [];
    private EtcdCluster _etcd = EtcdCluster.Create();

    public async Task InitializeAsync() => await Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.DisposeAsync();
        await _etcd.DisposeAsync();
        foreach (var thing in _things)
            thing.Dispose();
    }

    private VirtNodeProcess Node(string name, params string[] overrides)
    {
        var dir = new TempDirectory("virt-" + name);
        var host = new SimulatedHost(cpus: 8, memoryMiB: 16384);
        _things.Add(dir);
        _things.Add(host);
        var node = new VirtNodeProcess(dir.Path, host.Uri,
        [
            $"virt.node.name={name}",
            $"virt.cluster.etcd.endpoints={string.Join(',', _etcd.Endpoints)}",
            $"virt.cluster.lease-ttl={TtlSeconds}s",
            "virt.cluster.keepalive-interval=500ms",
            "virt.cluster.lease-safety-margin=500ms",
            .. overrides,
        ]);
        _nodes.Add(node);
        return node;
    }

    private static async Task<JsonNode> ClusterShow(VirtNodeProcess via)
    {
        var (exit, stdout, stderr) = await VirtCli.Against(via.Address, "cluster", "show", "--json");
        Assert.True(exit == 0, $"virt cluster show exited {exit}: {stderr}");
        return JsonNode.Parse(stdout)!;
    }

    /// <summary>/v1/health's document, whatever its status (503 while degraded).</summary>
    private static async Task<JsonNode> Health(VirtNodeProcess node)
    {
        using var response = await node.Http.GetAsync("/v1/health");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static string? Balancer(JsonNode cluster) => cluster["singletons"]!["balancer"]?.GetValue<string>();

    private static List<string> Names(JsonNode cluster) => cluster["members"]!.AsArray().Select(m => m!["name"]!.GetValue<string>()).ToList();

    private static Task<JsonNode> Until(VirtNodeProcess via, Func<JsonNode, bool> condition, string what, double seconds) =>
        Eventually.Until(() => via.Get("/v1/cluster"), condition, what, seconds);

    /// <summary>Until the node's health document says why it is not joined, in words containing <paramref name="reason"/>.</summary>
    private static Task<JsonNode> UntilClusterError(VirtNodeProcess node, string reason) =>
        Eventually.Until(() => Health(node), h => h["clusterError"]?.GetValue<string>().Contains(reason) == true, $"the health says '{reason}'");

    [Fact]
    public async Task Two_nodes_list_each_other_one_holds_the_balancer_and_after_a_kill_the_other_takes_it_and_the_dead_member_is_gone()
    {
        await _etcd.StartAllAsync();
        var a = Node("node-a");
        var b = Node("node-b");
        await Task.WhenAll(a.Start(), b.Start());

        var seenByA = await ClusterShow(a);
        Assert.Equal(["node-a", "node-b"], Names(seenByA));
        foreach (var m in seenByA["members"]!.AsArray())
        {
            Assert.Matches(@"^127\.0\.0\.1:\d+$", m!["address"]!.GetValue<string>());
            Assert.NotEmpty(m["incarnation"]!.GetValue<string>());
            Assert.InRange(m["leaseTtlLeftMs"]!.GetValue<long>(), 1, (long)(TtlSeconds * 1000));
        }

        Assert.Equal(a.Address, seenByA["members"]![0]!["address"]!.GetValue<string>());
        var holder = Balancer(seenByA);
        Assert.Contains(holder, new[] { "node-a", "node-b" });
        Assert.Equal(holder, Balancer(await ClusterShow(b))); // both see the same holder
        var holds = new List<bool>();
        foreach (var node in new[] { a, b })
            holds.Add((await node.Get("/v1/cluster"))["self"]!["holdsBalancer"]!.GetValue<bool>());
        Assert.Single(holds, h => h); // exactly one holds it, by its own account too

        var (dead, survivor, survivorName) = holder == "node-a" ? (a, b, "node-b") : (b, a, "node-a");
        var deadIncarnation = seenByA["members"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == holder)!["incarnation"]!.GetValue<string>();
        var killed = Stopwatch.StartNew();
        dead.Kill();
        var after = await Until(survivor, c => Balancer(c) == survivorName, $"{survivorName} holds the balancer", TtlSeconds + 15);
        output.WriteLine($"{survivorName} held the balancer {killed.ElapsedMilliseconds} ms after the kill of {holder} (lease TTL {TtlSeconds} s)");

        // The singleton and the membership record are bound to the same lease: one went, so did the other.
        Assert.Equal([survivorName], Names(after));

        await dead.Start(); // the same node again: a new incarnation, and the balancer stays where it is
        var rejoined = await Until(survivor, c => Names(c).Count == 2, $"{holder} rejoins", 20);
        var incarnation = rejoined["members"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == holder)!["incarnation"]!.GetValue<string>();
        Assert.NotEqual(deadIncarnation, incarnation);
        Assert.Equal(survivorName, Balancer(rejoined));
    }

    [Fact]
    public async Task A_graceful_stop_leaves_at_once_and_hands_the_balancer_over()
    {
        await _etcd.StartAllAsync();
        var a = Node("node-a");
        await a.Start();
        await Until(a, c => Balancer(c) == "node-a", "node-a, alone, holds the balancer", 10);
        var b = Node("node-b");
        await b.Start();

        await a.Stop(); // SIGTERM: resigns, deregisters and revokes before it exits
        var after = await b.Get("/v1/cluster");
        Assert.Equal(["node-b"], Names(after)); // already gone when the process has exited, not a TTL later
        await Until(b, c => Balancer(c) == "node-b", "node-b holds the balancer", 10);
    }

    [Fact]
    public async Task A_second_node_with_a_taken_name_is_kept_out_until_the_first_is_gone()
    {
        await _etcd.StartAllAsync();
        var first = Node("twin");
        await first.Start();
        var second = Node("twin");
        await second.Start(waitForHealthy: false);

        var health = await UntilClusterError(second, "another member");
        Assert.Equal("joining", health["cluster"]!.GetValue<string>());
        Assert.Contains("another member named 'twin'", health["clusterError"]!.GetValue<string>());
        var members = (await first.Get("/v1/cluster"))["members"]!.AsArray();
        Assert.Equal(first.Address, Assert.Single(members)!["address"]!.GetValue<string>()); // the first one's record is untouched

        first.Kill();
        await second.WaitUntilHealthy(); // joins once the first one's lease has ended
        Assert.Equal(second.Address, Assert.Single((await second.Get("/v1/cluster"))["members"]!.AsArray())!["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_node_started_before_etcd_runs_degraded_says_why_and_joins_when_etcd_comes()
    {
        var node = Node("early");
        await node.Start(waitForHealthy: false);

        var health = await UntilClusterError(node, "cannot connect");
        Assert.Equal("degraded", health["status"]!.GetValue<string>());
        Assert.True(health["libvirt"]!.GetValue<bool>()); // the node itself works
        var (exit, _, stderr) = await VirtCli.Against(node.Address, "cluster", "show");
        Assert.Equal(1, exit);
        Assert.Contains("Check that etcd is up", stderr);

        await _etcd.StartAllAsync();
        await node.WaitUntilHealthy();
        var (ok, table, _) = await VirtCli.Against(node.Address, "cluster", "show");
        Assert.Equal(0, ok);
        Assert.Contains("balancer      early", table);
        Assert.Matches(@"(?m)^early\s+127\.0\.0\.1:\d+\s+[0-9a-f]{16}\s+\d\.\d s\s+hypervisor\s+8 vCPU, 16384 MiB$", table);
    }
}
