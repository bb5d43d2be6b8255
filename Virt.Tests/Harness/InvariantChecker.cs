using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Virt.Tests.Harness;

/// <summary>
/// Watches what every host really runs and records the history, checking as it goes:
/// <list type="bullet">
/// <item>no VM is in two hosts' running sets at once;</item>
/// <item>no acknowledged command is lost (every 2xx start/stop the harness sent is recorded; at the end each VM's
/// desired state and phase agree with the last one);</item>
/// <item>an HA VM runs again within the budget after a fault (<see cref="RequireRunning"/>; the harness sizes its
/// clusters so the survivors can hold every VM).</item>
/// </list>
/// A host's running set comes from its libvirt: for test-driver hosts the only reader is the host's own
/// <c>GET /v1/node</c> (the domains live in virt-node). A host whose virt-node has exited runs nothing (its domains
/// died with it); a host that is alive but does not answer (stopped, cut off) keeps its last known running set, since
/// it may still run those. A round polls every host at once; a double run is two sets of one round holding one VM.
/// </summary>
public sealed class InvariantChecker : IAsyncDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromMilliseconds(1500);

    private readonly IReadOnlyList<LabHost> _hosts;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<string> _history = [];
    private readonly List<string> _violations = [];
    private readonly Dictionary<string, HostView> _views = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _doubleRuns = new(StringComparer.Ordinal);
    private readonly List<(string Vm, string Command, double At)> _acknowledged = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private Task _loop = Task.CompletedTask;
    private int _rounds;

    public InvariantChecker(IReadOnlyList<LabHost> hosts)
    {
        _hosts = hosts;
        foreach (var h in hosts)
            _views[h.Name] = new HostView(Seen.Never, new HashSet<string>(StringComparer.Ordinal));
    }

    private enum Seen
    {
        Never,
        Answered,
        Silent,
        Exited,
    }

    /// <param name="Starts">Which start of the host's virt-node this is about (<see cref="LabHost.Starts"/>).</param>
    private sealed record HostView(Seen Seen, IReadOnlySet<string> Running, int Starts = 0);

    /// <summary>Seconds since the checker started: the time of every history line.</summary>
    public double Now => _clock.Elapsed.TotalSeconds;

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_gate)
                return _violations.ToList();
        }
    }

    public int Rounds => Volatile.Read(ref _rounds);

    public void Start() => _loop = Task.Run(Loop);

    /// <summary>Something the harness did (a fault, a heal, a wait), into the history.</summary>
    public void Note(string what) => Record($"-- {what}");

    /// <summary>A command the cluster answered 2xx: it must not be lost.</summary>
    public void Acknowledged(string vm, string command)
    {
        lock (_gate)
            _acknowledged.Add((vm, command, Now));
        Record($"ack {command} {vm}");
    }

    /// <summary>Where each VM runs now, as answered by live hosts (a silent host's last set is not counted).</summary>
    public IReadOnlyDictionary<string, string[]> RunningOnAnsweringHosts()
    {
        lock (_gate)
        {
            return _views.Where(v => v.Value.Seen == Seen.Answered).SelectMany(v => v.Value.Running.Select(vm => (vm, host: v.Key)))
                .GroupBy(x => x.vm).ToDictionary(g => g.Key, g => g.Select(x => x.host).Order(StringComparer.Ordinal).ToArray());
        }
    }

    /// <summary>What a host may be running now: answered, or its last known set while it is silent; nothing once it exited.</summary>
    public IReadOnlySet<string> MayRun(string host)
    {
        lock (_gate)
            return _views[host].Running;
    }

    /// <summary>Waits until the checker has polled every host at least twice more (what it knows is current).</summary>
    public async Task Settle()
    {
        var target = Rounds + 2;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Rounds < target && DateTime.UtcNow < deadline)
            await Task.Delay(50);
    }

    /// <summary>
    /// Each VM given must be in some answering host's running set within <paramref name="budget"/> of
    /// <paramref name="since"/> (checker seconds); a violation (with <paramref name="why"/>) otherwise.
    /// </summary>
    public async Task RequireRunning(IReadOnlyCollection<string> vms, double since, TimeSpan budget, string why)
    {
        var deadline = since + budget.TotalSeconds;
        while (true)
        {
            var running = RunningOnAnsweringHosts();
            var missing = vms.Where(vm => !running.ContainsKey(vm)).ToList();
            if (missing.Count == 0)
            {
                Record($"all of {string.Join(',', vms.Order(StringComparer.Ordinal))} run again, {Now - since:0.0} s after {why}");
                return;
            }

            if (Now > deadline)
            {
                Violation($"not running again {budget.TotalSeconds:0} s after {why}: {string.Join(", ", missing)}");
                return;
            }

            await Task.Delay(Poll);
        }
    }

    /// <summary>
    /// The end of a run: for every VM with an acknowledged command, its view (<paramref name="view"/>: the VM as the
    /// cluster shows it, or null when it cannot say) must agree with the last one: start, desired running and running
    /// on a host (within <paramref name="budget"/>); stop, desired stopped and running nowhere.
    /// </summary>
    public async Task CheckAcknowledged(Func<string, Task<JsonNode?>> view, TimeSpan budget)
    {
        List<(string Vm, string Command, double At)> last;
        lock (_gate)
            last = _acknowledged.GroupBy(a => a.Vm).Select(g => g.Last()).ToList();
        var deadline = DateTime.UtcNow + budget;
        foreach (var (vm, command, at) in last)
        {
            while (true)
            {
                var v = await view(vm);
                var problem = v is null ? "the cluster cannot show it" : Disagreement(vm, command, v);
                if (problem is null)
                    break;
                if (DateTime.UtcNow > deadline)
                {
                    Violation($"acknowledged '{command} {vm}' (at {at:0.0} s) is lost: {problem}");
                    break;
                }

                await Task.Delay(Poll);
            }
        }
    }

    private string? Disagreement(string vm, string command, JsonNode v)
    {
        var desired = v["desired"]?.GetValue<string>();
        var state = v["state"]?.GetValue<string>();
        var runsOn = RunningOnAnsweringHosts().GetValueOrDefault(vm) ?? [];
        var restartNever = v["restart"]?.GetValue<string>() == "never" && (v["lastError"]?.GetValue<string>() ?? "").Contains("restart policy never", StringComparison.Ordinal);
        return command switch
        {
            "start" when restartNever && desired == "stopped" => null, // its host was lost after the start: stopped by its policy, with the reason
            "start" when desired != "running" => $"desired {desired}, state {state}",
            "start" when state != "running" || runsOn.Length != 1 => $"desired running but state {state}, running on [{string.Join(',', runsOn)}]",
            "stop" when desired != "stopped" || state != "stopped" => $"desired {desired}, state {state}",
            "stop" when _hosts.Any(h => MayRun(h.Name).Contains(vm)) => $"stopped, yet in the running set of {string.Join(',', _hosts.Where(h => MayRun(h.Name).Contains(vm)).Select(h => h.Name))}",
            _ => null,
        };
    }

    /// <summary>Fails with every violation and the history around them when there is any.</summary>
    public void AssertNoViolations(string context = "")
    {
        var violations = Violations;
        if (violations.Count == 0)
            return;
        throw new Xunit.Sdk.XunitException($"{context}{violations.Count} invariant violation(s):\n  {string.Join("\n  ", violations)}\nhistory (last 80 lines):\n{HistoryExcerpt(80)}");
    }

    public string HistoryExcerpt(int lines)
    {
        lock (_gate)
            return string.Join('\n', _history.TakeLast(lines));
    }

    public void Violation(string what)
    {
        lock (_gate)
            _violations.Add($"{Now:0.000}s {what}");
        Record($"VIOLATION {what}");
    }

    private void Record(string line)
    {
        lock (_gate)
            _history.Add($"{Now,8:0.000}s {line}");
    }

    private async Task Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            var started = Now;
            (string Host, HostView View)[] seen;
            try
            {
                seen = await Task.WhenAll(_hosts.Select(Observe));
            }
            catch (Exception ex)
            {
                Violation($"the checker could not poll the hosts: {ex.Message}"); // a blind checker must not pass a run
                await Task.Delay(Poll);
                continue;
            }

            lock (_gate)
            {
                foreach (var (host, view) in seen)
                {
                    var before = _views[host];
                    if (before.Seen != view.Seen || !before.Running.SetEquals(view.Running))
                        _history.Add($"{Now,8:0.000}s {host} {Describe(view)}");
                    _views[host] = view;
                }

                CheckDoubleRuns(started);
            }

            Interlocked.Increment(ref _rounds);
            try
            {
                await Task.Delay(Poll, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string Describe(HostView view) => view.Seen switch
    {
        Seen.Answered => $"runs [{string.Join(',', view.Running.Order(StringComparer.Ordinal))}]",
        Seen.Silent => $"silent: may still run [{string.Join(',', view.Running.Order(StringComparer.Ordinal))}]",
        Seen.Exited => "virt-node not running: runs nothing",
        _ => "not seen yet",
    };

    private async Task<(string Host, HostView View)> Observe(LabHost host)
    {
        var starts = host.Starts;
        var node = await host.TryGet("/v1/node", AnswerWithin);
        if (node?["domains"] is JsonArray domains && host.Starts == starts)
        {
            var running = domains.Where(d => d?["state"]?.GetValue<string>() == "running").Select(d => d!["name"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            return (host.Name, new HostView(Seen.Answered, running, starts));
        }

        // Asked after the answer failed: a process that died meanwhile runs nothing, even if it ran something a moment ago.
        if (host.IsDown)
            return (host.Name, new HostView(Seen.Exited, new HashSet<string>(StringComparer.Ordinal), starts));
        lock (_gate)
        {
            // A virt-node started again since its last answer runs on a fresh test-driver libvirt (its domains lived
            // in the old process): what the old one ran, it runs no more, however quickly it was killed and revived.
            var last = _views[host.Name];
            return (host.Name, last.Starts == starts ? last with { Seen = Seen.Silent } : new HostView(Seen.Silent, new HashSet<string>(StringComparer.Ordinal), starts));
        }
    }

    private void CheckDoubleRuns(double started)
    {
        var where = _views.SelectMany(v => v.Value.Running.Select(vm => (vm, host: v.Key))).GroupBy(x => x.vm)
            .ToDictionary(g => g.Key, g => string.Join(" and ", g.Select(x => $"{x.host} ({_views[x.host].Seen.ToString().ToLowerInvariant()})").Order(StringComparer.Ordinal)));
        foreach (var (vm, hosts) in where)
        {
            if (!hosts.Contains(" and ", StringComparison.Ordinal))
            {
                _doubleRuns.Remove(vm);
                continue;
            }

            if (_doubleRuns.TryGetValue(vm, out var known) && known == hosts)
                continue; // the same double run, reported once
            _doubleRuns[vm] = hosts;
            var line = $"{vm} runs on two hosts at once: {hosts} (round of {started:0.000}-{Now:0.000} s)";
            _violations.Add($"{Now:0.000}s {line}");
            _history.Add($"{Now,8:0.000}s VIOLATION {line}");
        }

        foreach (var gone in _doubleRuns.Keys.Where(vm => !where.ContainsKey(vm)).ToList())
            _doubleRuns.Remove(gone);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
