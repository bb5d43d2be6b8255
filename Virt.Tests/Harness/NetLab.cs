using System.Globalization;
using System.Text.RegularExpressions;
using Virt.Tests.Support;

namespace Virt.Tests.Harness;

/// <summary>
/// A network of test hosts on this machine: each host a network namespace with one veth to a bridge in a "switch"
/// namespace, plus a veth from the root namespace to the bridge (the gateway address), so the test reaches every
/// host's API and the hosts reach the lab's PostgreSQL and 3-member etcd, which run here in the root namespace bound
/// to the gateway. One 10.x.y.0/24 per lab, hosts at .11, .12...
///
/// Names carry the test process's id (<c>vlab-PID-N-...</c>): a lab left behind by a crashed run is found by that
/// prefix and removed (its processes killed, its namespaces deleted, with them its veths and iptables rules) when the
/// next lab starts. Processes run inside a host through <c>nsenter --net</c> (not <c>ip netns exec</c>, which
/// remounts /sys).
/// </summary>
public sealed partial class NetLab : IAsyncDisposable
{
    private const string Prefix = "vlab-";
    private static int _labs;

    private readonly List<string> _namespaces = [];
    private readonly TempDirectory _dir = new("vlab");

    private NetLab(string id, string subnet, int hosts)
    {
        Id = id;
        Subnet = subnet;
        HostCount = hosts;
    }

    /// <summary>vlab-PID-N: the prefix of every namespace of this lab.</summary>
    public string Id { get; }

    /// <summary>The first three octets of the lab's /24, e.g. 10.211.4.</summary>
    public string Subnet { get; }

    public string Network => Subnet + "0/24";

    /// <summary>The root namespace's address on the lab network: PostgreSQL and etcd listen here.</summary>
    public string Gateway => Subnet + "1";

    public int HostCount { get; }

    /// <summary>Where the test fence agent finds each host's pid file (<c>NAME.pids</c>).</summary>
    public string FenceStateDir => _dir.Path;

    /// <summary>Scratch space that lives as long as the lab.</summary>
    public string Directory => _dir.Path;

    public PostgresServer Postgres { get; private set; } = null!;

    public EtcdCluster Etcd { get; private set; } = null!;

    public string HostAddress(int index) => Subnet + (11 + index).ToString(CultureInfo.InvariantCulture);

    public string HostNamespace(int index) => $"{Id}-h{index + 1}";

    private string Switch => $"{Id}-sw";

    /// <summary>The root end of the lab's uplink (interface names have at most 15 characters).</summary>
    private string Uplink => "vl" + Id[Prefix.Length..].Replace("-", "x", StringComparison.Ordinal);

    public static async Task<NetLab> Start(int hosts)
    {
        if (!File.Exists("/usr/bin/nsenter") || !File.Exists("/usr/sbin/ip") || !File.Exists("/usr/sbin/iptables"))
            throw new InvalidOperationException("the harness needs nsenter, ip and iptables: apt-get install -y util-linux iproute2 iptables (scripts/test does this)");
        await RemoveStale();
        var id = $"{Prefix}{Environment.ProcessId}-{Interlocked.Increment(ref _labs)}";
        var lab = new NetLab(id, await FreeSubnet(), hosts);
        try
        {
            await lab.Build();
            var postgres = PostgresServer.StartOwn(lab.Gateway, lab.Network);
            var etcd = EtcdCluster.StartAsync(3, address: lab.Gateway);
            lab.Postgres = await postgres;
            lab.Etcd = await etcd;
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    private async Task Build()
    {
        await AddNamespace(Switch);
        await Ip("-n", Switch, "link", "add", "br0", "type", "bridge");
        await Ip("-n", Switch, "link", "set", "br0", "up");
        await Ip("link", "add", Uplink, "type", "veth", "peer", "name", "uplink", "netns", Switch);
        await Ip("-n", Switch, "link", "set", "uplink", "master", "br0");
        await Ip("-n", Switch, "link", "set", "uplink", "up");
        await Ip("addr", "add", Gateway + "/24", "dev", Uplink);
        await Ip("link", "set", Uplink, "up");
        for (var i = 0; i < HostCount; i++)
        {
            var ns = HostNamespace(i);
            var port = $"h{i + 1}";
            await AddNamespace(ns);
            await Ip("-n", ns, "link", "set", "lo", "up");
            await Ip("link", "add", "name", "eth0", "netns", ns, "type", "veth", "peer", "name", port, "netns", Switch);
            await Ip("-n", Switch, "link", "set", port, "master", "br0");
            await Ip("-n", Switch, "link", "set", port, "up");
            await Ip("-n", ns, "addr", "add", HostAddress(i) + "/24", "dev", "eth0");
            await Ip("-n", ns, "link", "set", "eth0", "up");
        }
    }

    private async Task AddNamespace(string name)
    {
        await Ip("netns", "add", name);
        _namespaces.Add(name);
    }

    /// <summary>The command line that runs a program inside host <paramref name="index"/>'s network namespace.</summary>
    public IReadOnlyList<string> InHost(int index) => ["nsenter", $"--net=/run/netns/{HostNamespace(index)}"];

    /// <summary>Runs a tool inside host <paramref name="index"/>'s network namespace, to its end.</summary>
    public Task<string> RunInHost(int index, params string[] command) =>
        ChildProcess.Output("nsenter", [$"--net=/run/netns/{HostNamespace(index)}", .. command], TimeSpan.FromSeconds(30));

    /// <summary>Brings host <paramref name="index"/>'s only link down (or up): it reaches nothing and nothing reaches it.</summary>
    public Task SetLink(int index, bool up) => Ip("-n", HostNamespace(index), "link", "set", "eth0", up ? "up" : "down");

    public static Task<string> Ip(params string[] args) => ChildProcess.Output("ip", args, TimeSpan.FromSeconds(30));

    /// <summary>A /24 in 10.200-249.x no address of this machine is in (another lab's included).</summary>
    private static async Task<string> FreeSubnet()
    {
        var taken = (await Ip("-4", "-o", "addr")).Split('\n').Select(l => InetRegex().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet();
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var subnet = $"10.{200 + Random.Shared.Next(50)}.{Random.Shared.Next(1, 255)}.";
            if (!taken.Contains(subnet))
                return subnet;
        }

        throw new InvalidOperationException("no free 10.x.y.0/24 for a lab");
    }

    /// <summary>Namespaces (and their processes) of labs whose test process has gone.</summary>
    private static async Task RemoveStale()
    {
        var listed = (await Ip("netns", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]);
        foreach (var ns in listed.Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var owner = StaleRegex().Match(ns);
            if (!owner.Success || (int.TryParse(owner.Groups[1].Value, out var pid) && System.IO.Directory.Exists($"/proc/{pid}")))
                continue;
            await RemoveNamespace(ns);
        }
    }

    private static async Task RemoveNamespace(string ns)
    {
        try
        {
            foreach (var pid in (await Ip("netns", "pids", ns)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                _ = Posix.Kill(int.Parse(pid, CultureInfo.InvariantCulture), 9);
            await Ip("netns", "del", ns);
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Etcd is not null)
            await Etcd.DisposeAsync();
        if (Postgres is not null)
            await Postgres.StopAsync();

        // Hosts first: deleting a namespace deletes its veths (the peers in the switch go with them) and its iptables rules.
        foreach (var ns in Enumerable.Reverse(_namespaces))
            await RemoveNamespace(ns);
        try
        {
            await Ip("link", "del", Uplink);
        }
        catch (InvalidOperationException)
        {
            // Went with the switch namespace.
        }

        _dir.Dispose();
    }

    [GeneratedRegex(@"inet (\d+\.\d+\.\d+\.)\d+/")]
    private static partial Regex InetRegex();

    [GeneratedRegex(@"^vlab-(\d+)-")]
    private static partial Regex StaleRegex();
}
