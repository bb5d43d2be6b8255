using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Virt.Tests.Support;

namespace Virt.Tests.Harness;

/// <summary>
/// One host of a <see cref="NetLab"/>: its network namespace, a simulated libvirt host (the test driver: its domains
/// live inside virt-node and die with it), a data directory and the virt-node running there, and the faults that can
/// hit it. Whenever a process of the host starts, its pids go to <c>FENCE_STATE_DIR/NAME.pids</c>, where the test
/// fence agent (power off) finds them.
/// </summary>
public sealed class LabHost : IAsyncDisposable
{
    private readonly NetLab _lab;
    private readonly string[] _overrides;
    private readonly TempDirectory _data;
    private readonly SimulatedHost _libvirt;
    private VirtNodeProcess? _node;

    internal LabHost(NetLab lab, int index, int cpus, long memoryMib, string[] overrides)
    {
        _lab = lab;
        Index = index;
        _overrides = overrides;
        _data = new TempDirectory($"vlab-{Name}");
        _libvirt = new SimulatedHost(cpus, memoryMib);
        Http = new HttpClient { BaseAddress = new Uri($"http://{ApiAddress}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Index { get; }

    public string Name => LabCluster.HostName(Index);

    public string Address => _lab.HostAddress(Index);

    public string ApiAddress => $"{Address}:9110";

    public string ClusterAddress => $"{Address}:4053";

    /// <summary>Starts since the lab began: each is a new incarnation.</summary>
    public int Starts { get; private set; }

    private readonly List<string> _earlierLogs = [];

    /// <summary>Its virt-node runs (was started and has not ended: a stopped process counts as running).</summary>
    public bool IsRunning => _node is { Pid: not null, HasExited: false };

    /// <summary>Its virt-node ended (killed, powered off, or ended on its own) and was not started again.</summary>
    public bool IsDown => !IsRunning;

    public VirtNodeProcess Node => _node ?? throw new InvalidOperationException($"{Name} was never started");

    /// <summary>Its API at its fixed address: usable across restarts, also while a new incarnation is starting.</summary>
    public HttpClient Http { get; }

    /// <summary>Starts virt-node (a new incarnation on the same data directory and libvirt host) and waits until it is healthy.</summary>
    public async Task Start(bool waitForHealthy = true)
    {
        _node?.Kill();
        if (_node is not null)
        {
            await _node.DisposeAsync();
            _earlierLogs.AddRange(_node.Log);
            _earlierLogs.Add($"=== {Name} started again (start {Starts + 1}) ===");
        }

        _node = new VirtNodeProcess(_data.Path, _libvirt.Uri,
        [
            $"virt.node.name={Name}", $"virt.api.listen={ApiAddress}", $"virt.cluster.listen={ClusterAddress}", .. _overrides,
        ]) { Launcher = _lab.InHost(Index) };
        Starts++; // before it runs: the checker must never take the new process for the old one
        await _node.Start(waitForHealthy: false);
        TestFenceAgent.WriteHost(_lab.FenceStateDir, Name, [_node.Pid!.Value]);
        if (waitForHealthy)
            await _node.WaitUntilHealthy();
    }

    /// <summary>kill -9 of virt-node.</summary>
    public void Kill9() => _node?.Kill();

    /// <summary>
    /// Power off: every process of the host dies at once (for a test-driver host, its virt-node, which holds its
    /// domains), as the test fence agent does through the pid file.
    /// </summary>
    public void PowerOff()
    {
        foreach (var line in File.ReadAllLines(Path.Combine(_lab.FenceStateDir, $"{Name}.pids")))
            _ = Posix.Kill(int.Parse(line, System.Globalization.CultureInfo.InvariantCulture), 9);
        _node?.Kill(); // reaps it
    }

    /// <summary>SIGSTOP: the process keeps its sockets but answers nothing, like a hung host.</summary>
    public void Stop() => _node?.Signal(Posix.SigStop);

    public void Cont() => _node?.Signal(Posix.SigCont);

    public Task LinkDown() => _lab.SetLink(Index, up: false);

    public Task LinkUp() => _lab.SetLink(Index, up: true);

    /// <summary>One-way: what this host sends to <paramref name="other"/> is dropped (inside this host's namespace); what it receives still arrives.</summary>
    public Task DropTo(LabHost other) => _lab.RunInHost(Index, "iptables", "-A", "OUTPUT", "-d", other.Address, "-j", "DROP");

    /// <summary>Undoes every network fault of this host: link up, iptables rules flushed.</summary>
    public async Task HealNetwork()
    {
        await LinkUp();
        await _lab.RunInHost(Index, "iptables", "-F", "OUTPUT");
    }

    /// <summary>
    /// A new virt-node on the same data directory: a new incarnation (whatever the old one was doing, it is killed
    /// first); done when it is an up member of the cluster. Not /v1/health: a node joining a cluster that has VMs
    /// stays 503 there (it counts only its own region's entities against every VM; see KnownProductBugTests).
    /// </summary>
    public async Task Restart()
    {
        await Start(waitForHealthy: false);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var status = (await TryGet("/v1/cluster", TimeSpan.FromSeconds(3)))?["self"]?["status"]?.GetValue<string>();
            if (status == "up")
                return;
            if (DateTime.UtcNow > deadline || IsDown)
                throw new Xunit.Sdk.XunitException($"{Name}'s new incarnation is not an up member within 90 s (status {status ?? "no answer"}, {(IsDown ? "its virt-node ended" : "its virt-node runs")}); its last log lines:\n{LogTail(40)}");
            await Task.Delay(200);
        }
    }

    public Task<JsonNode> Get(string path) => Node.Get(path);

    /// <summary>GET within <paramref name="timeout"/>: the body, or null when it does not answer 2xx in time.</summary>
    public async Task<JsonNode?> TryGet(string path, TimeSpan timeout)
    {
        if (!IsRunning)
            return null;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var response = await Http.GetAsync(path, cts.Token);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonNode>(cts.Token) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException or IOException)
        {
            return null; // IOException: the connection broke while the body was read (a fault cut it)
        }
    }

    /// <summary>What every incarnation of its virt-node logged, oldest first (kept after the lab for a failed test's story).</summary>
    public IEnumerable<string> WholeLog => _earlierLogs.Concat(_node?.Log ?? []);

    /// <summary>Its log (stdout) of the current or last incarnation, the last lines.</summary>
    public string LogTail(int lines) => string.Join('\n', (_node?.Log ?? []).TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            _node.Signal(Posix.SigCont);
            _node.Kill();
            await _node.DisposeAsync();
        }

        Http.Dispose();
        _libvirt.Dispose();
        _data.Dispose();
    }
}
