using System.Net;
using System.Net.Sockets;

namespace Virt.Tests.Support;

/// <summary>
/// Several real virt-node processes on loopback forming one Akka cluster: each its own simulated libvirt host, data
/// directory, API and cluster port; all with the same seed nodes and one PostgreSQL journal. Nodes are named
/// hv-1, hv-2...
/// </summary>
public sealed class NodeCluster : IAsyncDisposable
{
    private readonly List<TempDirectory> _dirs = [];
    private readonly List<SimulatedHost> _hosts = [];

    private NodeCluster(IReadOnlyList<VirtNodeProcess> nodes, IReadOnlyList<int> ports)
    {
        Nodes = nodes;
        Ports = ports;
    }

    public IReadOnlyList<VirtNodeProcess> Nodes { get; }

    /// <summary>Each node's cluster (Akka.Remote) port.</summary>
    public IReadOnlyList<int> Ports { get; }

    public VirtNodeProcess this[int index] => Nodes[index];

    public static string Name(int index) => $"hv-{index + 1}";

    /// <param name="capacities">Per node: CPUs and MiB of its simulated host.</param>
    public static Task<NodeCluster> Start(string postgres, IReadOnlyList<(int Cpus, long MemoryMiB)> capacities, params string[] overrides) =>
        Start(postgres, capacities, _ => [], overrides);

    /// <param name="perNode">Overrides for one node (by index), after the common ones: <c>virt.node.attributes.rack=r1</c>.</param>
    public static async Task<NodeCluster> Start(string postgres, IReadOnlyList<(int Cpus, long MemoryMiB)> capacities, Func<int, string[]> perNode, params string[] overrides)
    {
        var ports = capacities.Select(_ => FreePort()).ToList();
        var seeds = "[" + string.Join(",", ports.Select(p => $"\"127.0.0.1:{p}\"")) + "]";
        var nodes = new List<VirtNodeProcess>();
        var cluster = new NodeCluster(nodes, ports);
        for (var i = 0; i < capacities.Count; i++)
        {
            var dir = new TempDirectory($"virt-{Name(i)}");
            var host = new SimulatedHost(capacities[i].Cpus, capacities[i].MemoryMiB);
            cluster._dirs.Add(dir);
            cluster._hosts.Add(host);
            nodes.Add(new VirtNodeProcess(dir.Path, host.Uri,
            [
                $"virt.node.name={Name(i)}", $"virt.cluster.listen=127.0.0.1:{ports[i]}", $"virt.cluster.seed-nodes={seeds}",
                $"virt.persistence.postgresql.connection-string={postgres}", "virt.persistence.index-refresh=100ms", .. overrides, .. perNode(i),
            ]));
        }

        // A majority forms the cluster (min-members), then the rest join it. Started all at
        // once, two joiners can each see a converged view without the other and both act as leader: the oldest
        // member changes under the singletons while they start (a product bug of cold starts, open: see the notes).
        var forming = Math.Min(nodes.Count, nodes.Count / 2 + 1); // min-members' default
        await Task.WhenAll(nodes.Take(forming).Select(n => n.Start()));
        await Task.WhenAll(nodes.Skip(forming).Select(n => n.Start()));
        return cluster;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Where each cluster's node logs are kept after it is gone (a failed test's story): one directory per cluster.</summary>
    public static string LogRoot => System.IO.Path.Combine(System.IO.Path.GetTempPath(), "virt-test-logs");

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Nodes.Select(n => n.DisposeAsync().AsTask()));
        var logs = System.IO.Path.Combine(LogRoot, $"{DateTime.UtcNow:HHmmss}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..32]);
        System.IO.Directory.CreateDirectory(logs);
        for (var i = 0; i < Nodes.Count; i++)
            File.WriteAllLines(System.IO.Path.Combine(logs, $"{Name(i)}.log"), Nodes[i].Log);
        foreach (var h in _hosts)
            h.Dispose();
        foreach (var d in _dirs)
            d.Dispose();
    }
}
