using Virt.Tests.Support;

namespace Virt.Tests.Harness;

/// <summary>
/// Carries out scenario and schedule steps on a <see cref="LabCluster"/>, noting each in the checker's history. It
/// knows which VMs must run (HA, last acknowledged command start) so that <c>recovered</c> and <c>converged</c> can
/// check them, and when the last disruptive fault happened (the HA budget counts from there).
/// </summary>
public sealed class StepRunner(LabCluster cluster, IReadOnlyList<LabVm> vms)
{
    /// <summary>How long an HA VM that fits somewhere may take to run again after a fault (generous; the benchmark measures the real figure).</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, string> _lastCommand = vms.ToDictionary(v => v.Name, _ => "start", StringComparer.Ordinal);
    private double _lastFault;
    private DateTimeOffset _lastFaultWall = DateTimeOffset.UtcNow;
    private string _lastFaultWhat = "the start";

    private InvariantChecker Checker => cluster.Checker;

    /// <summary>The VMs that must run now: restart policy always or on-failure, last acknowledged command start.</summary>
    public IReadOnlyList<string> MustRun => vms.Where(v => v.Restart != "never" && _lastCommand[v.Name] == "start").Select(v => v.Name).ToList();

    private IReadOnlyList<string> MustNotRun => vms.Where(v => _lastCommand[v.Name] == "stop").Select(v => v.Name).ToList();

    public async Task Run(Step step)
    {
        Checker.Note(step.ToString());
        switch (step.Kind)
        {
            case StepKind.Command:
                if (await cluster.Command(step.Vm!, step.What))
                    _lastCommand[step.Vm!] = step.What;
                return;
            case StepKind.Fault:
                await Fault(step);
                return;
            default:
                await Wait(step);
                return;
        }
    }

    private LabHost Host(Step s) => cluster[s.Host!];

    private async Task Fault(Step s)
    {
        var etcd = cluster.Lab.Etcd;
        if (s.What is "kill9" or "power-off" or "stop" or "link-down" or "drop" or "etcd-member-down" or "etcd-down" or "postgres-restart")
        {
            _lastFault = Checker.Now;
            _lastFaultWall = DateTimeOffset.UtcNow;
            _lastFaultWhat = s.ToString();
        }

        switch (s.What)
        {
            case "kill9": Host(s).Kill9(); break;
            case "power-off": Host(s).PowerOff(); break;
            case "stop": Host(s).Stop(); break;
            case "cont": Host(s).Cont(); break;
            case "link-down": await Host(s).LinkDown(); break;
            case "link-up": await Host(s).LinkUp(); break;
            case "drop": await Host(s).DropTo(cluster[s.To!]); break;
            case "heal": await Host(s).HealNetwork(); break;
            case "restart": await Host(s).Restart(); break;
            case "revive":
                await Task.WhenAll(cluster.Hosts.Where(h => h.IsDown).Select(h => h.Restart()));
                await cluster.WaitForMembers(cluster.Hosts.Select(h => h.Name).ToList());
                break;
            case "etcd-member-down": etcd.Kill(s.Member!.Value); break;
            case "etcd-member-up": await etcd.RestartAsync(s.Member!.Value); break;
            case "etcd-down":
                for (var m = 0; m < etcd.Size; m++)
                    etcd.Kill(m);
                break;
            case "etcd-up": await EtcdUp(etcd); break;
            case "postgres-restart": await cluster.Lab.Postgres.RestartAsync(); break;
            default: throw new ArgumentException($"unknown fault {s.What}");
        }
    }

    /// <summary>Starts every etcd member that is not running, all at once (one alone has no quorum to be healthy with).</summary>
    public static Task EtcdUp(EtcdCluster etcd) =>
        Task.WhenAll(Enumerable.Range(0, etcd.Size).Where(m => !etcd.IsRunning(m)).Select(etcd.RestartAsync));

    private async Task Wait(Step s)
    {
        switch (s.What)
        {
            case "for":
                await Task.Delay(TimeSpan.FromSeconds(s.Seconds!.Value)); // the length of a fault, not a wait for a condition
                break;
            case "exited":
                await Until(() => Task.FromResult(Host(s).IsDown ? null : $"{s.Host}'s virt-node still runs"), $"{s.Host}'s virt-node has ended", 40);
                break;
            case "fenced":
                await Until(async () =>
                {
                    var fences = await cluster.Fences();
                    var fenced = fences?.Any(f => f!["host"]!.GetValue<string>() == s.Host && f["state"]!.GetValue<string>() == "fenced"
                                                  && f["requestedAt"]!.GetValue<DateTimeOffset>() >= _lastFaultWall.AddSeconds(-1)) == true;
                    return fenced ? null : $"fences: {fences?.ToJsonString() ?? "no answer"}";
                }, $"{s.Host} is fenced after {_lastFaultWhat}", 45);
                break;
            case "recovered":
                var before = Checker.Violations.Count;
                await Checker.RequireRunning(MustRun, _lastFault, Budget, _lastFaultWhat);
                if (Checker.Violations.Count > before)
                {
                    var (_, status) = await cluster.Send(HttpMethod.Get, "/v1/cluster");
                    Checker.Note($"late: fences {(await cluster.Fences())?.ToJsonString()}; cluster {status}");
                }

                break;
            case "members":
                await cluster.WaitForMembers(s.Hosts!, 60);
                break;
            case "converged":
                await Until(NotConverged, "the cluster has converged", 90);
                break;
            default:
                throw new ArgumentException($"unknown wait {s.What}");
        }
    }

    /// <summary>
    /// Converged: every host whose virt-node runs answers and all agree on the up members, which are exactly those
    /// hosts; every VM that must run runs on one answering host, every VM last stopped runs nowhere, and no fence is
    /// under way. Null then; otherwise what is not there yet.
    /// </summary>
    public async Task<string?> NotConverged()
    {
        var live = cluster.Hosts.Where(h => h.IsRunning).ToList();
        var views = new List<(LabHost Host, List<string>? Members)>();
        foreach (var h in live)
        {
            var statuses = await cluster.MemberStatusesSeenBy(h);
            if (statuses is null)
                return $"{h.Name} runs but does not answer";

            // A member not up (unreachable, down, leaving) is a loss not yet dealt with: its downing and fence are to come.
            if (statuses.FirstOrDefault(m => m.Status != "up") is { Name: not null } notUp)
                return $"{h.Name} sees {notUp.Name} {notUp.Status}";
            views.Add((h, statuses.Select(m => m.Name).ToList()));
        }

        var lists = views.Select(v => string.Join(',', v.Members!)).Distinct().ToList();
        if (lists.Count != 1)
            return $"the hosts disagree on the members: {string.Join("; ", views.Select(v => $"{v.Host.Name} sees [{string.Join(',', v.Members!)}]"))}";
        if (lists[0] != string.Join(',', live.Select(h => h.Name).Order(StringComparer.Ordinal)))
            return $"the members are [{lists[0]}], the running hosts [{string.Join(',', live.Select(h => h.Name))}]";
        var running = Checker.RunningOnAnsweringHosts();
        var missing = MustRun.Where(vm => !running.TryGetValue(vm, out var on) || on.Length != 1).ToList();
        if (missing.Count > 0)
            return $"not running on exactly one host: {string.Join(", ", missing)}";
        var stray = MustNotRun.Where(running.ContainsKey).ToList();
        if (stray.Count > 0)
            return $"stopped, yet running: {string.Join(", ", stray)}";

        // A fence under way still acts: its power agent would kill a new incarnation started on the host meanwhile.
        var fences = await cluster.Fences();
        if (fences is null)
            return "no host lists the fences";
        var pending = fences.Where(f => f!["state"]!.GetValue<string>() != "fenced").Select(f => f!["host"]!.GetValue<string>()).ToList();
        return pending.Count > 0 ? $"fences under way: {string.Join(", ", pending)}" : null;
    }

    private async Task Until(Func<Task<string?>> problem, string what, double seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var p = await problem();
            if (p is null)
            {
                Checker.Note($"{what} ({Checker.Now - _lastFault:0.0} s after {_lastFaultWhat})");
                return;
            }

            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"timed out after {seconds} s waiting until {what}; last seen: {p}\nhistory:\n{Checker.HistoryExcerpt(60)}\n{cluster.Diagnostics()}");
            await Task.Delay(200);
        }
    }
}
