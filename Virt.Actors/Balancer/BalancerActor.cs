using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Persistence;
using Virt.Actors.Cluster;
using Virt.Actors.Fencing;
using Virt.Actors.Index;
using Virt.Actors.Vm;
using Virt.Scheduler;

namespace Virt.Actors.Balancer;

/// <summary>Registry key of the balancer singleton's proxy.</summary>
public sealed class BalancerKey;

/// <summary>
/// The balancer (a cluster singleton). It keeps in its own journal only what it alone owns, the placement rules; the
/// rest of its picture is rebuilt after every takeover: hosts from their agents' reports, VMs from the VM index, plus
/// its own recent grants. Every placement is answered with <see cref="AdmissionPlan"/>, and nothing is answered until
/// the index is current and hosts have reported (or the start-up grace has passed), so no decision is made on half a
/// picture. It also tells each VM when the host it was on has left the cluster (removed, or gone longer than the host
/// timeout).
/// </summary>
internal sealed class BalancerActor : ReceivePersistentActor, IWithTimers
{
    private readonly BalancerOptions _options;
    private readonly IActorRef _index;
    private readonly Func<IActorRef> _region;
    private readonly Func<IActorRef> _fencer;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private readonly Dictionary<string, (PlacementRule Rule, string Json)> _rules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (BalancerProtocol.HostReport Report, DateTimeOffset At)> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VmState> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _grants = new(StringComparer.Ordinal);

    /// <summary>Hosts that left the cluster, how ("lost", "left the cluster") and which incarnation: their VMs wait for a fence (or, for one that left, its return).</summary>
    private readonly Dictionary<string, (string How, long Incarnation)> _gone = new(StringComparer.Ordinal);

    /// <summary>Hosts some VM waits for (lost while it ran there): kept so a host's report need not look through every VM.</summary>
    private HashSet<string> _awaited = new(StringComparer.Ordinal);

    /// <summary>Since when each host with VMs on it has been neither a member nor reporting.</summary>
    private readonly Dictionary<string, DateTimeOffset> _absentSince = new(StringComparer.Ordinal);

    /// <summary>Requests waiting for the next plan, with who asked: all that arrived together are decided together.</summary>
    private readonly List<(BalancerProtocol.PlaceVm Request, IActorRef ReplyTo)> _pending = [];
    private bool _indexed;
    private bool _graceOver;
    private bool _ready;

    public BalancerActor(BalancerOptions options, IActorRef index, Func<IActorRef> vms, Func<IActorRef> fencer)
    {
        _options = options;
        _index = index;
        _region = vms;
        _fencer = fencer;

        Recover<BalancerEvent>(Apply);

        Command<ClusterEvent.MemberRemoved>(removed =>
        {
            if (NodeRole.NameIn(removed.Member.Roles) is { } host)
                OnRemoved(new BalancerProtocol.HostRemoved(host, removed.Member.UniqueAddress.Uid, removed.PreviousStatus == MemberStatus.Down));
        });
        Command<BalancerProtocol.HostRemoved>(OnRemoved);
        Command<ClusterEvent.IMemberEvent>(_ => { });
        Command<BalancerProtocol.HostReport>(OnReport);
        Command<VmIndexProtocol.Snapshot>(snapshot =>
        {
            Context.Watch(Sender); // a restarted index is subscribed to again
            _vms.Clear();
            foreach (var (name, vm) in snapshot.Vms)
                _vms[name] = vm;
            Settle();
            _indexed = true;
            BecomeReadyIfComplete();
        });
        Command<VmIndexProtocol.Changed>(changed =>
        {
            foreach (var vm in changed.Vms.Where(v => v.Spec is not null))
            {
                _vms[vm.Spec!.Name] = vm;
                if (vm.AwaitingFence is { } host)
                    _awaited.Add(host);
            }

            Settle();
        });
        Command<Terminated>(_ => Timers.StartSingleTimer("resubscribe", Resubscribe.Instance, TimeSpan.FromSeconds(1)));
        Command<Resubscribe>(_ => _index.Tell(new VmIndexProtocol.Subscribe(Self)));
        Command<GraceOver>(_ =>
        {
            _graceOver = true;
            BecomeReadyIfComplete();
        });
        Command<Tick>(_ =>
        {
            Expire();
            AskFences();
        });
        Command<FencerProtocol.FenceStatus>(OnFenceStatus);
        Command<DomainRequestDone>(done => _log.Info("stray domain {0} on {1}: {2} {3}", done.Name, done.Node, done.Outcome, done.Error ?? ""));
        Command<BalancerProtocol.GetHosts>(_ => Sender.Tell(new BalancerProtocol.Hosts(
            _hosts.Values.Select(h => h.Report).OrderBy(r => r.Node, StringComparer.Ordinal).ToList(),
            _hosts.ToDictionary(h => h.Key, h => h.Value.At))));
        Command<BalancerProtocol.GetRules>(_ => Sender.Tell(new BalancerProtocol.RuleList(
            _rules.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new BalancerProtocol.RuleAdded(r.Key, r.Value.Json, [])).ToList())));
        Command<BalancerProtocol.AddRule>(AddRule);
        Command<BalancerProtocol.RemoveRule>(remove =>
        {
            if (!_rules.ContainsKey(remove.Name))
            {
                Sender.Tell(new BalancerProtocol.RuleRemoved(remove.Name, false));
                return;
            }

            var replyTo = Sender;
            Persist(new BalancerEvent.RuleRemoved(remove.Name, Now), e =>
            {
                Apply(e);
                replyTo.Tell(new BalancerProtocol.RuleRemoved(remove.Name, true));
            });
        });

        // What needs the whole picture waits until it is there.
        Command<BalancerProtocol.PlaceVm>(request =>
        {
            if (!_ready)
            {
                Stash.Stash();
                return;
            }

            if (_pending.Count == 0)
                Self.Tell(PlanPending.Instance); // behind every request already in the mailbox
            _pending.Add((request, Sender));
        });
        Command<PlanPending>(_ => Plan());
        Command<BalancerProtocol.Explain>(explain =>
        {
            if (!_ready)
            {
                Stash.Stash();
                return;
            }

            var known = _vms.TryGetValue(explain.Vm, out var vm) && vm.Exists ? vm
                : explain.View is { } view && view.Name == explain.Vm ? VmState.Absent with { Phase = view.State, Spec = view.Spec, Node = view.Node, Op = view.Op }
                : null;
            Sender.Tell(known is not null
                ? new BalancerProtocol.Explanation(explain.Vm, true, AdmissionPlan.Explain(known, Picture()))
                : new BalancerProtocol.Explanation(explain.Vm, false, $"no VM named '{explain.Vm}'"));
        });
        Command<BalancerProtocol.GetSnapshot>(get =>
        {
            if (!_ready)
            {
                Stash.Stash();
                return;
            }

            Sender.Tell(Snapshot(get.Pending, get.PendingView));
        });
    }

    public override string PersistenceId => "balancer";

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    public static Props Props(BalancerOptions options, IActorRef index, Func<IActorRef> vms, Func<IActorRef> fencer) => Akka.Actor.Props.Create(() => new BalancerActor(options, index, vms, fencer));

    protected override void PreStart()
    {
        base.PreStart();
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        _index.Tell(new VmIndexProtocol.Subscribe(Self));
        Timers.StartSingleTimer("grace", GraceOver.Instance, _options.StartupGrace);
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromSeconds(1));
    }

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        base.PostStop();
    }

    private void Apply(BalancerEvent e)
    {
        switch (e)
        {
            case BalancerEvent.RuleAdded added:
                try
                {
                    _rules[added.Name] = (ScenarioReader.ReadRule(added.Json), added.Json);
                }
                catch (ScenarioException ex)
                {
                    // Stored by a version that read it; this one does not. Keep going without it, loudly.
                    _log.Error("rule {0} in the journal cannot be read by this version and is ignored: {1}", added.Name, ex.Message);
                }

                break;
            case BalancerEvent.RuleRemoved removed:
                _rules.Remove(removed.Name);
                break;
        }
    }

    private BalancerPicture Picture() =>
        new(_hosts.Values.Select(h => h.Report).ToList(), _vms.Values, _grants.Values, _rules.Values.Select(r => r.Rule).ToList(), _options, Now);

    /// <summary>
    /// Ready once the index is current and either every member host has reported or the grace has passed. Not on the
    /// first report: a balancer that just took over would refuse VMs for want of room on hosts it has not heard yet.
    /// </summary>
    private void BecomeReadyIfComplete()
    {
        if (_ready || !Complete(_indexed, _graceOver, Members(), _hosts.Keys))
            return;
        _ready = true;
        _log.Info("balancer ready: {0} host(s), {1} VM(s), {2} rule(s)", _hosts.Count, _vms.Values.Count(v => v.Exists), _rules.Count);
        Stash.UnstashAll();
    }

    /// <summary>The picture is complete: the index is current, and every member host has reported (or the grace is over).</summary>
    internal static bool Complete(bool indexed, bool graceOver, IReadOnlySet<string> members, IEnumerable<string> reported)
    {
        if (!indexed)
            return false;
        if (graceOver)
            return true;
        var heard = reported.ToHashSet(StringComparer.Ordinal);
        return heard.Count > 0 && members.All(heard.Contains);
    }

    private void AddRule(BalancerProtocol.AddRule add)
    {
        PlacementRule rule;
        string json;
        try
        {
            rule = ScenarioReader.ReadRule(add.Json);
            json = JsonNode.Parse(add.Json)!.ToJsonString(); // compact, as given
        }
        catch (Exception ex) when (ex is ScenarioException or System.Text.Json.JsonException)
        {
            Sender.Tell(new BalancerProtocol.RuleRefused(ex.Message, false));
            return;
        }

        if (_rules.ContainsKey(rule.Name))
        {
            Sender.Tell(new BalancerProtocol.RuleRefused($"a rule named '{rule.Name}' exists; remove it first (virt rule remove {rule.Name}) or choose another name", true));
            return;
        }

        var warnings = Broken(rule);
        var replyTo = Sender;
        Persist(new BalancerEvent.RuleAdded(rule.Name, json, Now), e =>
        {
            Apply(e);
            replyTo.Tell(new BalancerProtocol.RuleAdded(rule.Name, json, warnings));
        });
    }

    /// <summary>Running VMs that <paramref name="rule"/> would move (what the engine's repair plan names): the rule is already broken by them.</summary>
    private List<string> Broken(PlacementRule rule)
    {
        var picture = Picture() with { Rules = [.. _rules.Values.Select(r => r.Rule), rule] };
        if (picture.Hosts.Count == 0)
            return [];
        var problem = AdmissionPlan.Problem([], picture, new PlanAction.Repair(), out _);
        var plan = PlacementEngine.Plan(problem with { Policy = (problem.Policy ?? new PlacementPolicy()) with { MaxMigrations = int.MaxValue, MaxMigrationsPerNode = int.MaxValue } });
        bool Named(string vm) => rule.Vms.Contains(vm) || (rule is ColocationRule { With: { } anchor } && anchor == vm);
        var running = _vms.Values.Where(v => v.OnHost).ToDictionary(v => v.Spec!.Name, v => v.Node!, StringComparer.Ordinal);
        return plan.Decisions.Where(d => Named(d.Vm)).Select(d => $"{d.Vm} on {d.From} breaks it ({d.Why})")
            .Concat(plan.Unplaced.Where(u => Named(u.Vm) && running.ContainsKey(u.Vm))
                .Select(u => $"{u.Vm} on {running[u.Vm]} breaks it, and no host can take it ({string.Join("; ", u.Reasons.Select(r => $"{r.Key}: {r.Value}"))})"))
            .ToList();
    }

    private BalancerProtocol.Snapshot Snapshot(string? pending, VmView? view)
    {
        var requests = new List<BalancerProtocol.PlaceVm>();
        if (pending is not null)
        {
            if (_vms.TryGetValue(pending, out var vm) && vm.Exists)
                requests.Add(new BalancerProtocol.PlaceVm(pending, vm.Op, vm.Spec!.Vcpus, vm.Spec.MemoryMib, vm.Spec.Priority, vm.Spec.Restart != RestartPolicy.Never));
            else if (view is { Name: var name, Spec: var spec } && name == pending)
                requests.Add(new BalancerProtocol.PlaceVm(pending, view.Op, spec.Vcpus, spec.MemoryMib, spec.Priority, spec.Restart != RestartPolicy.Never));
            else
                return new BalancerProtocol.Snapshot(null, $"no VM named '{pending}'");
        }

        return new BalancerProtocol.Snapshot(ScenarioWriter.Json(AdmissionPlan.Problem(requests, Picture(), new PlanAction.Place(), out _)), null);
    }

    private void Plan()
    {
        if (_pending.Count == 0)
            return;
        var batch = _pending.ToList();
        _pending.Clear();
        var answers = AdmissionPlan.Decide(batch.Select(p => p.Request).ToList(), Picture());
        foreach (var (request, replyTo) in batch)
        {
            var (node, reason) = answers[request.Vm];
            if (node is not null)
            {
                _grants[request.Vm] = new Grant(request.Vm, request.Op, node, request.Vcpus, request.MemoryMib, request.Priority, request.Ha, Now);
                _log.Debug("placed {0} (op {1}) on {2}", request.Vm, request.Op, node);
            }
            else
            {
                _log.Info("cannot place {0}: {1}", request.Vm, reason);
            }

            replyTo.Tell(new BalancerProtocol.Placement(request.Vm, request.Op, node, reason));
        }
    }

    /// <summary>A member left: if it was a host, it takes nothing more, and its VMs are told (downed: lost; else: it left).</summary>
    private void OnRemoved(BalancerProtocol.HostRemoved removed)
    {
        var (host, incarnation) = (removed.Node, removed.Incarnation);
        if (_gone.TryGetValue(host, out var known) && known.Incarnation == incarnation)
            return; // heard already (from its own subscription, or another node's watcher)
        if (Members(includeLeaving: true).Contains(host) && _hosts.TryGetValue(host, out var current) && current.Report.Incarnation != incarnation && current.Report.Incarnation != 0)
            return; // an older incarnation's removal, heard late: the host is back already
        var how = removed.Downed ? "lost" : "left the cluster";
        _log.Warning("host {0} {1} (incarnation {2}): its VMs wait for {3}", host, how, incarnation, removed.Downed ? "a fence" : "it to come back, or a fence");
        _hosts.Remove(host);
        _gone[host] = (how, incarnation);
        TellLost(host, how, incarnation);
        if (removed.Downed)
            _fencer().Tell(new FencerProtocol.EnsureFenced(host, incarnation, "downed and removed"));
    }

    /// <summary>Every VM on <paramref name="host"/> hears that it is gone (again after each refresh of the index: telling is idempotent).</summary>
    private void TellLost(string host, string how, long incarnation)
    {
        foreach (var vm in _vms.Values.Where(v => v.OnHost && v.Node == host))
            _region().Tell(new VmProtocol.Command(vm.Spec!.Name, new VmCommand.HostLost(host, how, incarnation)));
    }

    /// <summary>
    /// For every host some VM waits for that is not a member now, the fencer is asked to make sure it is fenced (it
    /// answers how that stands). A host that left the cluster in order is not fenced: its VMs wait for it to come back
    /// (or for the operator's fence).
    /// </summary>
    private void AskFences()
    {
        var members = Members();
        var waiting = _vms.Values.Where(v => v.AwaitingFence is not null).Select(v => (v.AwaitingFence!, v.AwaitingIncarnation)).Distinct().ToList();
        _awaited = waiting.Select(w => w.Item1).ToHashSet(StringComparer.Ordinal);
        foreach (var (host, incarnation) in waiting)
        {
            if (members.Contains(host) || (_gone.TryGetValue(host, out var gone) && gone.How != "lost"))
                continue;
            _fencer().Tell(new FencerProtocol.EnsureFenced(host, incarnation, "its VMs wait for it"));
        }
    }

    /// <summary>The fencer's word on a host: its VMs are freed (confirmed) or hear why they still wait.</summary>
    private void OnFenceStatus(FencerProtocol.FenceStatus status)
    {
        foreach (var vm in _vms.Values.Where(v => v.AwaitingFence == status.Host))
        {
            VmCommand command = status.Confirmed
                ? new VmCommand.HostFenced(status.Host, status.Incarnation, status.Text)
                : new VmCommand.FenceWaiting(status.Host, $"waiting for fence of {status.Host}: {status.Text}");
            _region().Tell(new VmProtocol.Command(vm.Spec!.Name, command));
        }
    }

    private bool IsMember(string host, long incarnation) =>
        NodeRole.Find(Akka.Cluster.Cluster.Get(Context.System).State.Members, host) is { Status: not (MemberStatus.Down or MemberStatus.Removed) } m && m.UniqueAddress.Uid == incarnation;

    private HashSet<string> Members(bool includeLeaving = false) =>
        Akka.Cluster.Cluster.Get(Context.System).State.Members.Where(m => m.Status is not (MemberStatus.Down or MemberStatus.Removed) && (includeLeaving || m.Status != MemberStatus.Exiting))
            .Select(m => NodeRole.NameIn(m.Roles)).OfType<string>().ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// A host with VMs on it that is neither a member nor reporting for longer than the host timeout is gone too:
    /// that covers a removal this balancer did not see (it took over after it). Cluster members are never taken
    /// for gone, however long they are silent: downing them is the Split Brain Resolver's decision.
    /// </summary>
    private void FindAbsent()
    {
        var members = Akka.Cluster.Cluster.Get(Context.System).State.Members.Select(m => NodeRole.NameIn(m.Roles)).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var now = Now;
        foreach (var host in _vms.Values.Where(v => v.OnHost).Select(v => v.Node!).Distinct(StringComparer.Ordinal).ToList())
        {
            if (_gone.TryGetValue(host, out var gone))
            {
                TellLost(host, gone.How, gone.Incarnation);
                continue;
            }

            if (members.Contains(host) || _hosts.ContainsKey(host))
            {
                _absentSince.Remove(host);
                continue;
            }

            if (!_absentSince.TryAdd(host, now) && now - _absentSince[host] > _options.HostTimeout)
            {
                _log.Warning("host {0} is not in the cluster and has not reported for {1:0} s: its VMs wait for a fence", host, (now - _absentSince[host]).TotalSeconds);
                _gone[host] = ("lost", 0);
                TellLost(host, "lost", 0);
            }
        }
    }

    private void OnReport(BalancerProtocol.HostReport report)
    {
        if (report.Incarnation != 0 && !IsMember(report.Node, report.Incarnation))
            return; // from an incarnation that is not a member (any more): a late report of a lost host, not its return
        if (_gone.Remove(report.Node))
            _log.Info("host {0} is back", report.Node);
        Rejoined(report);
        if (!_hosts.TryGetValue(report.Node, out var known) || !known.Report.SameOffer(report))
            _log.Info("host {0}: {1} CPUs, {2} MiB, {3}{4}", report.Node, report.Cpus, report.MemoryMib, report.State, report.Available ? "" : ", libvirt unreachable");
        _hosts[report.Node] = (report, Now);
        BecomeReadyIfComplete();
    }

    /// <summary>
    /// What a host's report says about VMs elsewhere: a VM that waits for this host asks it again (the host's libvirt,
    /// under its new incarnation, says whether it still runs there: adopted, or freed to start elsewhere), and a domain
    /// running here that the journal has running on another host, which reports it running too, is a stray: destroyed here.
    /// </summary>
    private void Rejoined(BalancerProtocol.HostReport report)
    {
        if (_awaited.Contains(report.Node))
        {
            foreach (var vm in _vms.Values.Where(v => v.AwaitingFence == report.Node))
                _region().Tell(new HostAvailable(vm.Spec!.Name, report.Node));
        }

        if (report.Incarnation == 0)
            return;
        foreach (var name in report.Domains ?? [])
        {
            // Only when the journal's host reports it running too: then this one is surely the stray, whatever the index's lag.
            if (_vms.TryGetValue(name, out var vm) && vm.OnHost && vm.Node != report.Node && vm.Phase == VmPhase.Running
                && _hosts.TryGetValue(vm.Node!, out var there) && there.Report.Domains?.Contains(name) == true)
            {
                _log.Warning("{0} runs on {1}, and the journal has it running on {2}: destroying it on {1}", name, report.Node, vm.Node);
                Sender.Tell(new StopDomain(name, true, vm.Op, report.Incarnation));
            }
        }
    }

    /// <summary>
    /// A grant is over once the journal shows the VM past the placement it was made for (it started, or gave the start
    /// up). Until the index shows anything of it, it holds: the index may simply not have read that far yet.
    /// </summary>
    private void Settle()
    {
        foreach (var grant in _grants.Values.ToList())
        {
            if (_vms.TryGetValue(grant.Vm, out var vm) && (vm.Op > grant.Op || !vm.Exists || (vm.Op == grant.Op && vm.Phase != VmPhase.Placing)))
                _grants.Remove(grant.Vm);
        }
    }

    private void Expire()
    {
        FindAbsent();
        var now = Now;
        foreach (var (node, (_, at)) in _hosts.ToList())
        {
            if (now - at > _options.HostTimeout)
            {
                _log.Warning("host {0} has not reported for {1:0} s: it takes no new VMs until it does", node, (now - at).TotalSeconds);
                _hosts.Remove(node);
            }
        }

        // A grant the VM never acted on (its entity stopped meanwhile) must not hold capacity forever.
        foreach (var grant in _grants.Values.Where(g => now - g.At > _options.HostTimeout * 2).ToList())
            _grants.Remove(grant.Vm);
    }

    private sealed class Resubscribe
    {
        public static readonly Resubscribe Instance = new();
    }

    private sealed class PlanPending
    {
        public static readonly PlanPending Instance = new();
    }

    private sealed class GraceOver
    {
        public static readonly GraceOver Instance = new();
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
