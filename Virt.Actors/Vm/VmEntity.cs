using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using Virt.Actors.Balancer;
using Virt.Actors.Cluster;
using Virt.Actors.Fsm;

namespace Virt.Actors.Vm;

/// <summary>What every VM entity shares: its lifecycle defaults, how often to snapshot, and who to ask.</summary>
/// <param name="Agents">Finds each host's node agent and its incarnation (a domain request goes to the VM's host, wherever the entity lives).</param>
/// <param name="Balancer">The balancer singleton (through its proxy).</param>
/// <param name="LocalNode">This node: where a VM that was never on any host is looked for.</param>
public sealed record VmEntitySettings(VmDefaults Defaults, int SnapshotEvery, INodeAgents Agents, IActorRef Balancer, string LocalNode);

/// <summary>
/// One VM, as a sharded persistent entity (entity id: the VM's name; persistence id <c>vm-{name}</c>). It persists
/// what <see cref="VmDecider"/> decides, then carries it out: placement through the balancer, domain operations
/// through the node agent. Answers to commands are sent after their events are stored; a start is answered once the
/// balancer has placed it (or refused). Side effects never run on replay: after recovery the entity asks libvirt
/// what is true and decides from that.
/// </summary>
internal sealed class VmEntity : ReceivePersistentActor, IWithTimers
{
    public const string IdPrefix = "vm-";
    private const string StateTimeoutKey = "state-timeout";
    private const string PlacementRetryKey = "placement-retry";

    private readonly string _name;
    private readonly VmEntitySettings _settings;
    private readonly VmDecider _decider;
    private readonly StateTimeoutTracker<VmCommand> _timeout = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>Requesters of a start waiting for the placement of op (key) to be decided.</summary>
    private readonly Dictionary<long, List<IActorRef>> _placing = [];

    /// <summary>The highest <see cref="DomainStateChanged.Seen"/> number heard from the agent: older lifecycle events are stale.</summary>
    private long _seen;

    /// <summary>A delete's undefine has not been confirmed by the agent yet: stay alive to retry it.</summary>
    private bool _undefinePending;

    public VmEntity(string name, VmEntitySettings settings)
    {
        _name = name;
        _settings = settings;
        _decider = new VmDecider(settings.Defaults);
        State = _decider.Initial;
        PersistenceId = IdPrefix + name;

        Recover<SnapshotOffer>(offer => State = (VmState)offer.Snapshot);
        Recover<VmEvent>(e => State = _decider.Apply(State, e));
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<VmProtocol.Command>(c =>
        {
            if (c.Request is { } request && State.Requests.FirstOrDefault(r => r.Key == request.Key) is { } seen)
            {
                Retried(request, seen);
                return;
            }

            if (!State.Exists && c.Body is not VmCommand.Define)
            {
                Sender.Tell(new VmProtocol.NotFound(_name));
                PassivateIfGone();
                return;
            }

            Decide(c.Body, Sender, c.Request);
        });
        Command<VmProtocol.Get>(_ =>
        {
            Sender.Tell(State.Exists ? View() : new VmProtocol.NotFound(_name));
            PassivateIfGone();
        });
        Command<BalancerProtocol.Placement>(OnPlacement);
        Command<DomainRequestDone>(OnDone);
        Command<DomainObservation>(OnObservation);
        Command<DomainStateChanged>(OnStateChanged);
        Command<HostAvailable>(_ =>
        {
            if (State.Exists || _undefinePending)
                Observe();
            if (State.AwaitingReady)
                WatchReadiness(); // the same run's watch again changes nothing; a watch lost with the agent starts over
        });
        Command<GuestReadySeen>(seen =>
        {
            if (State.Exists)
                Decide(new VmCommand.GuestReady(seen.Op, seen.Evidence), null);
        });
        Command<TimeoutFired>(fired =>
        {
            if (!_timeout.IsCurrent(fired.Key))
                return;
            _timeout.Update(null, Now); // so the same state re-arms after this
            Decide(fired.Command, null);
        });
        Command<RetryPlacement>(_ => AskBalancer());
        Command<SaveSnapshotSuccess>(ok => DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(failed => _log.Warning("VM {0}: snapshot failed: {1}", _name, failed.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(failed => _log.Warning("VM {0}: deleting old snapshots failed: {1}", _name, failed.Cause.Message));
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    private VmState State { get; set; }

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    public static Props Props(string name, VmEntitySettings settings) => Akka.Actor.Props.Create(() => new VmEntity(name, settings));

    private void OnRecovered()
    {
        RearmTimeout();
        _undefinePending = State.Phase == VmPhase.Deleted;
        if (State.Exists || _undefinePending)
            Observe();
        if (State.Phase == VmPhase.Placing)
            AskBalancer(); // the answer to the request made before the restart is lost with the old incarnation
        if (State.AwaitingReady)
            WatchReadiness(); // the watch of the agent that started it may be gone with it

        // No passivation here even if the VM does not exist: the message that started this entity comes next.
    }

    /// <summary>
    /// A command whose key is stored: it was done before (its answer was lost), so it is answered with the VM as it is
    /// now, a start once placed; the same key for another request is refused.
    /// </summary>
    private void Retried(RequestStamp request, RequestStamp seen)
    {
        if (seen.Fingerprint != request.Fingerprint)
            Sender.Tell(new VmProtocol.KeyReused(_name, request.Key));
        else if (State.Phase == VmPhase.Placing)
            Await(State.Op, Sender);
        else
            Sender.Tell(new VmProtocol.Result(true, null, State.Phase, State.Exists ? View() : null, 0, Replayed: true));
    }

    /// <summary>Decides a command as if it had arrived now; <paramref name="replyTo"/> gets the result (null: nobody).</summary>
    private void Decide(VmCommand command, IActorRef? replyTo, RequestStamp? request = null)
    {
        switch (_decider.Decide(State, command, Now))
        {
            case Decision<VmEvent>.Rejected rejected:
                RearmTimeout();
                replyTo?.Tell(new VmProtocol.Result(false, rejected.Reason, State.Phase, State.Exists ? View() : null, 0));
                PassivateIfGone();
                break;
            case Decision<VmEvent>.Accepted { Events.Count: 0 }:
                RearmTimeout();
                if (replyTo is not null && State.Phase == VmPhase.Placing && command is VmCommand.Start or VmCommand.Restart)
                    Await(State.Op, replyTo);
                else
                    replyTo?.Tell(new VmProtocol.Result(true, null, State.Phase, State.Exists ? View() : null, 0));
                break;
            case Decision<VmEvent>.Accepted accepted:
                var before = State;
                var events = request is null ? accepted.Events : [accepted.Events[0] with { Request = request }, .. accepted.Events.Skip(1)];
                PersistAll(events, e => State = _decider.Apply(State, e), () => AfterStored(before, events, replyTo));
                break;
        }
    }

    private void AfterStored(VmState before, IReadOnlyList<VmEvent> events, IActorRef? replyTo)
    {
        if (_settings.SnapshotEvery > 0 && LastSequenceNr % _settings.SnapshotEvery < events.Count)
            SaveSnapshot(State);
        RearmTimeout();
        foreach (var e in events)
            CarryOut(e, before);

        if (replyTo is not null && State.Phase == VmPhase.Placing)
            Await(State.Op, replyTo); // answered once the balancer has decided
        else
            replyTo?.Tell(new VmProtocol.Result(true, null, State.Phase, State.Exists ? View() : null, events.Count));
        if (before.Phase == VmPhase.Placing && (State.Phase != VmPhase.Placing || State.Op != before.Op))
            AnswerPlacing(before.Op, events.OfType<VmEvent.PlacementFailed>().FirstOrDefault());
        PassivateIfGone();
    }

    /// <summary>The side effect of one stored event. Runs after the events are stored, never on replay.</summary>
    private void CarryOut(VmEvent e, VmState before)
    {
        switch (e)
        {
            case VmEvent.PlacementRequested:
                AskBalancer();
                break;
            case VmEvent.StartRequested start:
                Timers.Cancel(PlacementRetryKey);
                ToAgent(start.Node, incarnation => new StartDomain(State.Spec!, start.Op, incarnation));
                break;
            case VmEvent.StopRequested stop:
                ToAgent(State.Node, incarnation => new StopDomain(_name, stop.Mode == StopMode.Force, stop.Op, incarnation));
                break;
            case VmEvent.StopEscalated escalated:
                ToAgent(State.Node, incarnation => new StopDomain(_name, true, escalated.Op, incarnation));
                break;
            case VmEvent.Deleted:
                _undefinePending = true;
                ToAgent(before.Node ?? before.LastNode, incarnation => new UndefineDomain(_name, State.Op, incarnation));
                break;
            case VmEvent.PlacementFailed or VmEvent.DesiredChanged or VmEvent.Adopted when before.Phase == VmPhase.Placing:
                Timers.Cancel(PlacementRetryKey);
                if (e is VmEvent.Adopted && State.AwaitingReady)
                    WatchReadiness();
                break;
            case VmEvent.Started or VmEvent.Adopted when State.AwaitingReady:
                WatchReadiness();
                break;
        }
    }

    /// <summary>Asks the VM's host to watch this run's guest for its readiness check.</summary>
    private void WatchReadiness() => ToAgent(State.Node, incarnation => new WatchReadiness(State.Spec!, State.Op, incarnation));

    private void AskBalancer()
    {
        if (State.Phase != VmPhase.Placing)
            return;
        var spec = State.Spec!;
        _settings.Balancer.Tell(new BalancerProtocol.PlaceVm(_name, State.Op, spec.Vcpus, spec.MemoryMib, spec.Priority, spec.Restart != RestartPolicy.Never, State.Pin), Self);
        Timers.StartSingleTimer(PlacementRetryKey, RetryPlacement.Instance, _settings.Defaults.PlacementTimeout);
    }

    private void OnPlacement(BalancerProtocol.Placement placement)
    {
        if (placement.Node is { } node)
            Decide(new VmCommand.Placed(placement.Op, node), null);
        else
            Decide(new VmCommand.PlacementRefused(placement.Op, placement.Reason ?? "the balancer gave no reason"), null);
    }

    private void Await(long op, IActorRef requester)
    {
        if (!_placing.TryGetValue(op, out var waiting))
            _placing[op] = waiting = [];
        waiting.Add(requester);
    }

    /// <summary>The placement of <paramref name="op"/> is over: tell whoever asked for the start how it went.</summary>
    private void AnswerPlacing(long op, VmEvent.PlacementFailed? failed)
    {
        if (!_placing.Remove(op, out var waiting))
            return;
        var started = State.Phase is VmPhase.Starting or VmPhase.Running;
        var reason = started ? null : failed is not null ? $"no host can run it: {failed.Reason}" : $"it is {ApiName(State.Phase)} now, not started";
        var result = new VmProtocol.Result(started, reason, State.Phase, State.Exists ? View() : null, 1);
        foreach (var requester in waiting)
            requester.Tell(result);
    }

    private void OnDone(DomainRequestDone done)
    {
        _seen = Math.Max(_seen, done.Seen);
        switch (done)
        {
            case { Outcome: DomainOutcome.Unavailable }:
                // Nothing happened; the agent says when libvirt is back (HostAvailable), and we reconcile then.
                _log.Warning("VM {0}: {1} waits for libvirt on {2}: {3}", _name, done.Request, done.Node, done.Error);
                break;
            case { Outcome: DomainOutcome.Stale }:
                // Nothing happened: the token was old (a newer request is on its way) or meant for an earlier incarnation of the host.
                _log.Warning("VM {0}: {1} on {2} was refused: {3}", _name, done.Request, done.Node, done.Error);
                break;
            case { Request: "start" }:
                Decide(done.Outcome == DomainOutcome.Done ? new VmCommand.StartDone(done.Op, done.HostBoot) : new VmCommand.StartRefused(done.Op, done.Error ?? "unknown error"), null);
                break;
            case { Request: "stop" }:
                if (done.Outcome == DomainOutcome.Done && done.StoppedNow)
                    Decide(new VmCommand.StopDone(done.Op), null);
                else if (done.Outcome == DomainOutcome.Failed)
                    _log.Warning("VM {0}: stop failed: {1}; the stop timeout will escalate", _name, done.Error);
                break;
            case { Request: "undefine", Outcome: DomainOutcome.Done }:
                _undefinePending = false;
                PassivateIfGone();
                break;
            case { Request: "undefine" }:
                _log.Warning("VM {0}: removing the domain failed: {1}; retried when libvirt next comes back", _name, done.Error);
                break;
        }
    }

    private void OnObservation(DomainObservation observed)
    {
        _seen = Math.Max(_seen, observed.Seen);
        if (!State.Exists)
        {
            if (_undefinePending && observed.Exists)
                ToAgent(observed.Node, incarnation => new UndefineDomain(_name, State.Op, incarnation)); // the delete's side effect did not finish before a crash
            else
                _undefinePending = false;
            PassivateIfGone();
            return;
        }

        Decide(new VmCommand.Observed(observed.Exists, observed.Running, observed.Node, observed.HostBoot), null);
    }

    private void OnStateChanged(DomainStateChanged changed)
    {
        if (changed.Seen < _seen)
        {
            _log.Debug("VM {0}: dropped a stale lifecycle event ({1}, seen {2} < {3})", _name, changed.Reason, changed.Seen, _seen);
            return;
        }

        _seen = changed.Seen;
        Decide(changed.Running ? new VmCommand.DomainRunning(changed.Node, changed.HostBoot) : new VmCommand.DomainStopped(changed.Reason), null);
    }

    /// <summary>Asks libvirt where the VM is or was: its host, else the one it was last on, else this node's.</summary>
    private void Observe() => ToAgent(State.Node ?? State.LastNode, incarnation => new ObserveDomain(_name, State.Op, incarnation));

    /// <summary>Sends a request, with its fencing token, to the agent of <paramref name="node"/> (this node's when null).</summary>
    private void ToAgent(string? node, Func<long, DomainRequest> request)
    {
        var host = node ?? _settings.LocalNode;
        if (_settings.Agents.Find(host) is { } agent)
            agent.Agent.Tell(request(agent.Incarnation), Self);
        else
            _log.Warning("VM {0}: host {1} is not a member of the cluster; its request waits until the host is back or declared lost", _name, host);
    }

    /// <summary>A VM that does not exist (never did, or deleted and cleaned up) leaves memory and the remembered set.</summary>
    private void PassivateIfGone()
    {
        if (!State.Exists && !_undefinePending && _placing.Count == 0)
            Context.Parent.Tell(new Passivate(PoisonPill.Instance));
    }

    private void RearmTimeout()
    {
        var next = _decider.TimeoutFor(State);
        if (_timeout.Update(next, Now))
            Timers.StartSingleTimer(StateTimeoutKey, new TimeoutFired(next!.Key, next.Command), next.After);
        else if (next is null)
            Timers.Cancel(StateTimeoutKey);
    }

    private VmView View() => VmView.Of(State, _settings.Defaults, Now, _settings.LocalNode);

    private static string ApiName(VmPhase phase) => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(phase.ToString());

    private sealed record TimeoutFired(string Key, VmCommand Command);

    private sealed class RetryPlacement
    {
        public static readonly RetryPlacement Instance = new();
    }
}
