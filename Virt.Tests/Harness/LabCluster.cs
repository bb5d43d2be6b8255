using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Harness;

/// <summary>A VM the harness creates: its size, restart policy, priority, and the host it is started on (null: the balancer picks).</summary>
public sealed record LabVm(string Name, int Vcpus = 1, long MemoryMib = 512, string Restart = "always", int Priority = 0, string? Host = null, int MaxRestarts = 1000);

/// <summary>How a lab cluster is set up: the hosts' capacities, whether etcd guards it, the fence levels.</summary>
public sealed record LabClusterOptions(IReadOnlyList<(int Cpus, long MemoryMib)> Hosts, bool Etcd = false, IReadOnlyList<string>? FenceLevels = null)
{
    public IReadOnlyList<string> Levels => FenceLevels ?? ["power"];
}

/// <summary>
/// One virt-node per host of a <see cref="NetLab"/> forming one cluster on a fresh PostgreSQL database of the lab's
/// server (and, with etcd, the lab's etcd under a key prefix of its own), every host power-fenceable by the test fence
/// agent, and an <see cref="InvariantChecker"/> watching from the first moment. Commands go to any host that answers
/// (with an Idempotency-Key, so a retry elsewhere is the same command) and every 2xx is told to the checker.
/// </summary>
public sealed class LabCluster : IAsyncDisposable
{
    private static int _clusters;
    private readonly List<LabHost> _hosts;
    private int _next;

    private LabCluster(NetLab lab, List<LabHost> hosts)
    {
        Lab = lab;
        _hosts = hosts;
        Checker = new InvariantChecker(hosts);
    }

    public NetLab Lab { get; }

    public IReadOnlyList<LabHost> Hosts => _hosts;

    public InvariantChecker Checker { get; }

    public LabHost this[string name] => _hosts.SingleOrDefault(h => h.Name == name) ?? throw new ArgumentException($"no host {name} in this cluster (hosts: {string.Join(", ", _hosts.Select(h => h.Name))})");

    public static string HostName(int index) => $"hv-{index + 1}";

    public static async Task<LabCluster> Start(NetLab lab, LabClusterOptions options)
    {
        if (options.Hosts.Count > lab.HostCount)
            throw new ArgumentException($"the lab has {lab.HostCount} hosts, not {options.Hosts.Count}");
        var number = Interlocked.Increment(ref _clusters);
        var database = await lab.Postgres.CreateDatabase("lab");
        var seeds = "[" + string.Join(",", Enumerable.Range(0, options.Hosts.Count).Select(i => $"\"{lab.HostAddress(i)}:4053\"")) + "]";
        var common = new List<string>
        {
            $"virt.cluster.seed-nodes={seeds}",
            $"virt.persistence.postgresql.connection-string={database}",
            "virt.persistence.index-refresh=100ms",
            $"virt.fencing.levels=[{string.Join(',', options.Levels)}]",
        };
        for (var i = 0; i < options.Hosts.Count; i++)
        {
            var name = HostName(i);
            common.Add($"virt.fencing.power.hosts.{name}.agent=\"{TestFenceAgent.Path}\"");
            common.Add($"virt.fencing.power.hosts.{name}.args.plug={name}");
            common.Add($"virt.fencing.power.hosts.{name}.args.state_dir=\"{lab.FenceStateDir}\"");
        }

        if (options.Etcd)
        {
            common.Add($"virt.cluster.etcd.endpoints=[{string.Join(',', lab.Etcd.Endpoints.Select(e => $"\"{e}\""))}]");
            common.Add($"virt.cluster.etcd.key-prefix=\"/virt/{lab.Id}-{number}/\"");
        }

        var hosts = options.Hosts.Select((h, i) => new LabHost(lab, i, h.Cpus, h.MemoryMib, [.. common])).ToList();
        var cluster = new LabCluster(lab, hosts);
        try
        {
            foreach (var h in hosts)
                await h.HealNetwork(); // a lab reused after another cluster's faults
            await Task.WhenAll(hosts.Select(h => h.Start()));
            cluster.Checker.Start();
            await cluster.WaitForMembers(hosts.Select(h => h.Name).ToList());
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every host whose virt-node runs, starting from a different one each call (spreads the API load).</summary>
    private IEnumerable<LabHost> Running()
    {
        var start = Interlocked.Increment(ref _next);
        return Enumerable.Range(0, _hosts.Count).Select(i => _hosts[(start + i) % _hosts.Count]).Where(h => h.IsRunning);
    }

    /// <summary>
    /// Sends a request to the running hosts in turn until one answers other than with a 5xx or a lost connection;
    /// the status and body, or (0, what went wrong) when none did.
    /// </summary>
    public async Task<(HttpStatusCode Status, string Body)> Send(HttpMethod method, string path, object? body = null, string? idempotencyKey = null)
    {
        var problems = new List<string>();
        foreach (var host in Running())
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
                request.Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
            if (idempotencyKey is not null)
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(12));
            try
            {
                using var response = await host.Http.SendAsync(request, cts.Token);
                var text = await response.Content.ReadAsStringAsync(cts.Token);
                if ((int)response.StatusCode < 500)
                    return (response.StatusCode, text);
                problems.Add($"{host.Name}: {(int)response.StatusCode} {text}");
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                problems.Add($"{host.Name}: {ex.GetType().Name}");
            }
        }

        return (0, problems.Count == 0 ? "no host runs virt-node" : string.Join("; ", problems));
    }

    /// <summary>Creates a VM and, when it has a host, starts it there; waits until it runs (read from that host's libvirt).</summary>
    public async Task Create(LabVm vm)
    {
        var (status, text) = await Send(HttpMethod.Post, "/v1/vms",
            new { name = vm.Name, vcpus = vm.Vcpus, memoryMib = vm.MemoryMib, restart = vm.Restart, priority = vm.Priority, maxRestarts = vm.MaxRestarts }, $"create-{vm.Name}");
        if (status != HttpStatusCode.Created)
            throw new InvalidOperationException($"creating {vm.Name}: {(int)status} {text}");
    }

    /// <summary>start (optionally pinned to a node) or stop (forced) of a VM; true when the cluster acknowledged it (2xx), which the checker records.</summary>
    public async Task<bool> Command(string vm, string command, string? node = null)
    {
        var path = command switch
        {
            "start" => $"/v1/vms/{vm}/start" + (node is null ? "" : $"?node={node}"),
            "stop" => $"/v1/vms/{vm}/stop?force=true",
            _ => throw new ArgumentException($"unknown command {command}"),
        };
        var (status, text) = await Send(HttpMethod.Post, path, null, Guid.NewGuid().ToString("N"));
        var acknowledged = (int)status is >= 200 and < 300;
        if (acknowledged)
            Checker.Acknowledged(vm, command);
        else
            Checker.Note($"{command} {vm} not acknowledged: {(int)status} {Truncate(text, 200)}");
        return acknowledged;
    }

    /// <summary>The VM as the cluster shows it (asked of any host), or null when no host can say right now.</summary>
    public async Task<JsonNode?> Vm(string name)
    {
        var (status, text) = await Send(HttpMethod.Get, $"/v1/vms/{name}");
        return status == HttpStatusCode.OK ? JsonNode.Parse(text) : null;
    }

    /// <summary>Every fence record, newest first (asked of any host), or null when none answers.</summary>
    public async Task<JsonArray?> Fences()
    {
        var (status, text) = await Send(HttpMethod.Get, "/v1/fences");
        return status == HttpStatusCode.OK ? JsonNode.Parse(text)!["fences"]!.AsArray() : null;
    }

    /// <summary>The up members as <paramref name="host"/> sees them, or null when it does not answer.</summary>
    public async Task<List<string>?> MembersSeenBy(LabHost host) =>
        (await MemberStatusesSeenBy(host))?.Where(m => m.Status == "up").Select(m => m.Name).ToList();

    /// <summary>Every member <paramref name="host"/> lists (unreachable, down and leaving ones too) with its status, by name; null when it does not answer.</summary>
    public async Task<List<(string Name, string Status)>?> MemberStatusesSeenBy(LabHost host)
    {
        var cluster = await host.TryGet("/v1/cluster", TimeSpan.FromSeconds(3));
        return cluster?["members"]?.AsArray().Select(m => (m!["name"]!.GetValue<string>(), m["status"]!.GetValue<string>())).OrderBy(m => m.Item1, StringComparer.Ordinal).ToList();
    }

    /// <summary>Until every host named sees exactly those as up members.</summary>
    public Task WaitForMembers(IReadOnlyList<string> names, double seconds = 90)
    {
        var expected = names.Order(StringComparer.Ordinal).ToList();
        return Eventually.Until(async () =>
        {
            foreach (var name in names)
            {
                var seen = await MembersSeenBy(this[name]);
                if (seen is null || !seen.SequenceEqual(expected))
                    return $"{name} sees [{string.Join(',', seen ?? [])}]";
            }

            return "";
        }, problem => problem.Length == 0, $"the members are exactly {string.Join(", ", expected)}", seconds);
    }

    /// <summary>Creates the VMs and starts each on its host (or where the balancer puts it), and waits until all run.</summary>
    public async Task Deploy(IReadOnlyList<LabVm> vms)
    {
        foreach (var vm in vms)
            await Create(vm);
        foreach (var vm in vms)
        {
            if (!await Command(vm.Name, "start", vm.Host))
                throw new InvalidOperationException($"starting {vm.Name}: not acknowledged; {Checker.HistoryExcerpt(3)}");
        }

        await Eventually.Until(() =>
        {
            var running = Checker.RunningOnAnsweringHosts();
            return vms.All(vm => running.TryGetValue(vm.Name, out var on) && (vm.Host is null || on.Contains(vm.Host)));
        }, $"{vms.Count} VMs run where they were started", 60);
    }

    /// <summary>Where things stand, for a failure message: each host's state and log tail.</summary>
    public string Diagnostics(int logLines = 15) =>
        string.Join('\n', _hosts.Select(h => $"== {h.Name} ({(h.IsRunning ? "running" : "down")}, started {h.Starts}x), last log lines:\n{h.LogTail(logLines)}"));

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "...";

    public static string Seconds(double s) => s.ToString("0.0", CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await Checker.DisposeAsync();
        await Task.WhenAll(_hosts.Select(h => h.DisposeAsync().AsTask()));
        var logs = Path.Combine(NodeCluster.LogRoot, $"lab-{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(logs);
        foreach (var host in _hosts)
            await File.WriteAllLinesAsync(Path.Combine(logs, $"{host.Name}.log"), host.WholeLog);
    }
}
