using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Virt.Actors.Cluster;
using Virt.Actors.Index;
using Virt.Actors.Vm;

namespace Virt.Actors.Balancer;

/// <summary>Registry key of the balancer singleton's proxy.</summary>
public sealed class BalancerKey;

/// <summary>
/// The balancer (a cluster singleton): holds the live picture of the cluster (hosts from their agents' reports, VMs
/// from the VM index, its own recent grants) and answers every placement with <see cref="AdmissionPlan"/>. It answers
/// nothing until it has heard from the index and from hosts (or the start-up grace has passed), so no decision is
/// made on half a picture. Everything it holds is rebuilt from the agents and the index after a takeover.
/// It also tells each VM when the host it was on has left the cluster (removed, or gone longer than the host timeout).
/// </summary>
internal sealed class BalancerActor : ReceiveActor, IWithTimers, IWithStash
{
    private readonly BalancerOptions _options;
    private readonly IActorRef _index;
    private readonly Func<IActorRef> _region;

    /// <summary>Hosts that left the cluster, and how ("lost", "left the cluster"): their VMs wait for a fence.</summary>
    private readonly Dictionary<string, string> _gone = new(StringComparer.Ordinal);

    /// <summary>Since when each host with VMs on it has been neither a member nor reporting.</summary>
    private readonly Dictionary<string, DateTimeOffset> _absentSince = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, (BalancerProtocol.HostReport Report, DateTimeOffset At)> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VmState> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Grant> _grants = new(StringComparer.Ordinal);

    /// <summary>Requests waiting for the next plan, with who asked: all that arrived together are decided together.</summary>
    private readonly List<(BalancerProtocol.PlaceVm Request, IActorRef ReplyTo)> _pending = [];
    private bool _indexed;
    private bool _graceOver;
    private bool _ready;

    public BalancerActor(BalancerOptions options, IActorRef index, Func<IActorRef> vms)
    {
        _options = options;
        _index = index;
        _region = vms;
        Receive<ClusterEvent.MemberRemoved>(OnRemoved);
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<BalancerProtocol.HostReport>(OnReport);
        Receive<VmIndexProtocol.Snapshot>(snapshot =>
        {
            OnSnapshot(snapshot);
            _indexed = true;
            BecomeReadyIfComplete();
        });
        Receive<Terminated>(_ => Timers.StartSingleTimer("resubscribe", Resubscribe.Instance, TimeSpan.FromSeconds(1)));
        Receive<Resubscribe>(_ => _index.Tell(new VmIndexProtocol.Subscribe(Self)));
        Receive<VmIndexProtocol.Changed>(changed =>
        {
            foreach (var vm in changed.Vms)
                _vms[vm.Spec?.Name ?? ""] = vm;
            Settle();
        });
        Receive<GraceOver>(_ =>
        {
            _graceOver = true;
            BecomeReadyIfComplete();
        });
        Receive<Tick>(_ => Expire());
        Receive<BalancerProtocol.GetHosts>(_ => Sender.Tell(Hosts()));
        Receive<BalancerProtocol.PlaceVm>(_ => Stash.Stash());
    }

    private BalancerProtocol.Hosts Hosts() => new(
        _hosts.Values.Select(h => h.Report).OrderBy(r => r.Node, StringComparer.Ordinal).ToList(),
        _hosts.ToDictionary(h => h.Key, h => h.Value.At));

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    public static Props Props(BalancerOptions options, IActorRef index, Func<IActorRef> vms) => Akka.Actor.Props.Create(() => new BalancerActor(options, index, vms));

    protected override void PreStart()
    {
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        _index.Tell(new VmIndexProtocol.Subscribe(Self));
        Timers.StartSingleTimer("grace", GraceOver.Instance, _options.StartupGrace);
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.FromSeconds(1));
    }

    /// <summary>Ready once the index is current and either every host has reported or the grace has passed.</summary>
    private void BecomeReadyIfComplete()
    {
        if (_ready || !_indexed || (!_graceOver && _hosts.Count == 0))
            return;
        _ready = true;
        _log.Info("balancer ready: {0} host(s), {1} VM(s)", _hosts.Count, _vms.Values.Count(v => v.Exists));
        Become(Ready);
        Stash.UnstashAll();
    }

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private void Ready()
    {
        Receive<ClusterEvent.MemberRemoved>(OnRemoved);
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<BalancerProtocol.HostReport>(OnReport);
        Receive<VmIndexProtocol.Snapshot>(OnSnapshot);
        Receive<Terminated>(_ => Timers.StartSingleTimer("resubscribe", Resubscribe.Instance, TimeSpan.FromSeconds(1)));
        Receive<Resubscribe>(_ => _index.Tell(new VmIndexProtocol.Subscribe(Self)));
        Receive<VmIndexProtocol.Changed>(changed =>
        {
            foreach (var vm in changed.Vms)
                _vms[vm.Spec?.Name ?? ""] = vm;
            Settle();
        });
        Receive<BalancerProtocol.GetHosts>(_ => Sender.Tell(Hosts()));
        Receive<BalancerProtocol.PlaceVm>(request =>
        {
            if (_pending.Count == 0)
                Self.Tell(PlanPending.Instance); // behind every request already in the mailbox
            _pending.Add((request, Sender));
        });
        Receive<PlanPending>(_ => Plan());
        Receive<Tick>(_ => Expire());
        Receive<GraceOver>(_ => { });
    }

    private void Plan()
    {
        if (_pending.Count == 0)
            return;
        var batch = _pending.ToList();
        _pending.Clear();
        var hosts = _hosts.Values.Select(h => h.Report).ToList();
        var answers = AdmissionPlan.Decide(batch.Select(p => p.Request).ToList(), hosts, _vms.Values, _grants.Values, _options);
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

    /// <summary>The index's whole picture; the index is watched, so a restarted index is subscribed to again.</summary>
    private void OnSnapshot(VmIndexProtocol.Snapshot snapshot)
    {
        Context.Watch(Sender);
        _vms.Clear();
        foreach (var (name, vm) in snapshot.Vms)
            _vms[name] = vm;
        Settle();
    }

    /// <summary>A member left: if it was a host, it takes nothing more, and its VMs are told (downed: lost; else: it left).</summary>
    private void OnRemoved(ClusterEvent.MemberRemoved removed)
    {
        if (NodeRole.NameIn(removed.Member.Roles) is not { } host)
            return;
        var how = removed.PreviousStatus == MemberStatus.Down ? "lost" : "left the cluster";
        _log.Warning("host {0} {1} (incarnation {2}): its VMs wait for a fence", host, how, removed.Member.UniqueAddress.Uid);
        _hosts.Remove(host);
        _gone[host] = how;
        TellLost(host, how);
    }

    /// <summary>Every VM on <paramref name="host"/> hears that it is gone (again after each refresh of the index: telling is idempotent).</summary>
    private void TellLost(string host, string how)
    {
        foreach (var vm in _vms.Values.Where(v => v.OnHost && v.Node == host))
            _region().Tell(new VmProtocol.Command(vm.Spec!.Name, new VmCommand.HostLost(host, how)));
    }

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
            if (_gone.TryGetValue(host, out var how))
            {
                TellLost(host, how);
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
                _gone[host] = "lost";
                TellLost(host, "lost");
            }
        }
    }

    private void OnReport(BalancerProtocol.HostReport report)
    {
        if (_gone.Remove(report.Node))
            _log.Info("host {0} is back", report.Node);
        if (!_hosts.TryGetValue(report.Node, out var known) || !known.Report.SameOffer(report))
            _log.Info("host {0}: {1} CPUs, {2} MiB, {3}{4}", report.Node, report.Cpus, report.MemoryMib, report.State, report.Available ? "" : ", libvirt unreachable");
        _hosts[report.Node] = (report, Now);
        BecomeReadyIfComplete();
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
