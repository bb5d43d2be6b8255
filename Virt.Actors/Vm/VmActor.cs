using Microsoft.Extensions.Logging;
using Virt.Actors.Fsm;
using Virt.Actors.Persistence;
using Virt.Actors.Runtime;

namespace Virt.Actors.Vm;

/// <summary>
/// One VM: persists what the <see cref="VmDecider"/> decides, then carries it out through the node agent, and turns
/// the agent's answers and libvirt's events back into commands. Reports every change to the directory.
/// </summary>
internal sealed class VmActor(string name, VmDecider decider, VmDefaults defaults, IEventJournal journal, ISnapshotStore snapshots, IActorRef agent, IActorRef directory)
    : DeciderActor<VmState, VmCommand, VmEvent>(decider, journal, snapshots)
{
    private static readonly IReadOnlyList<string> Tags = [VmSerialization.Tag];

    /// <summary>The highest <see cref="DomainStateChanged.Seen"/> number heard from the agent: older lifecycle events are stale.</summary>
    private long _seen;

    public override string PersistenceId { get; } = VmSerialization.PersistenceId(name);

    protected override int SnapshotEvery => 100;

    public static Props Props(string name, VmDecider decider, VmDefaults defaults, IEventJournal journal, ISnapshotStore snapshots, IActorRef agent, IActorRef directory) =>
        Runtime.Props.Create(() => new VmActor(name, decider, defaults, journal, snapshots, agent, directory));

    protected override IReadOnlyList<string>? TagsFor(object @event) => Tags;

    protected override void OnRecovered()
    {
        Report(recovered: true);
        if (State.Phase != VmPhase.Absent)
            agent.Tell(new ObserveDomain(name, State.Op), Self);
    }

    protected override void OnPersisted(VmState before, VmState after, IReadOnlyList<VmEvent> events)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case VmEvent.StartRequested start:
                    agent.Tell(new StartDomain(State.Spec!, start.Op), Self);
                    break;
                case VmEvent.StopRequested stop:
                    agent.Tell(new StopDomain(name, stop.Mode == StopMode.Force, stop.Op), Self);
                    break;
                case VmEvent.StopEscalated escalated:
                    agent.Tell(new StopDomain(name, true, escalated.Op), Self);
                    break;
                case VmEvent.Deleted:
                    agent.Tell(new UndefineDomain(name, State.Op), Self);
                    break;
            }
        }

        Report(recovered: false);
    }

    protected override void OnOther(object message)
    {
        switch (message)
        {
            case DomainRequestDone done:
                _seen = Math.Max(_seen, done.Seen);
                break;
            case DomainObservation observation:
                _seen = Math.Max(_seen, observation.Seen);
                break;
            case DomainStateChanged stale when stale.Seen < _seen:
                Log.LogDebug("VM {Vm}: dropped a stale lifecycle event ({Reason}, seen {Seen} < {Latest})", name, stale.Reason, stale.Seen, _seen);
                return;
            case DomainStateChanged changed:
                _seen = changed.Seen;
                break;
        }

        switch (message)
        {
            case DomainRequestDone { Outcome: DomainOutcome.Unavailable } unavailable:
                // Nothing happened; the agent tells everyone when libvirt is back, and we reconcile then.
                Log.LogWarning("VM {Vm}: {Request} waits for libvirt: {Error}", name, unavailable.Request, unavailable.Error);
                break;
            case DomainRequestDone { Request: "start" } start:
                Decide(start.Outcome == DomainOutcome.Done ? new VmCommand.StartDone(start.Op) : new VmCommand.StartRefused(start.Op, start.Error ?? "unknown error"), null);
                break;
            case DomainRequestDone { Request: "stop" } stop:
                if (stop.Outcome == DomainOutcome.Done && stop.StoppedNow)
                    Decide(new VmCommand.StopDone(stop.Op), null);
                else if (stop.Outcome == DomainOutcome.Failed)
                    Log.LogWarning("VM {Vm}: stop failed: {Error}; the stop timeout will escalate", name, stop.Error);
                break;
            case DomainRequestDone:
                break;
            case DomainObservation observed:
                if (State.Phase == VmPhase.Deleted && observed.Exists)
                    agent.Tell(new UndefineDomain(name, State.Op), Self); // the delete's side effect did not finish before a crash
                Decide(new VmCommand.Observed(observed.Exists, observed.Running), null);
                break;
            case DomainStateChanged changed:
                Decide(changed.Running ? new VmCommand.DomainRunning() : new VmCommand.DomainStopped(changed.Reason), null);
                break;
            case NodeAvailability { Available: true }:
                if (State.Phase != VmPhase.Absent)
                    agent.Tell(new ObserveDomain(name, State.Op), Self);
                break;
            case NodeAvailability:
                break;
            case VmProtocol.GetVm:
                Sender.Tell(State.Exists ? VmView.Of(State, defaults, Context.Time.GetUtcNow()) : new VmProtocol.NotFound(name));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Report(bool recovered) =>
        directory.Tell(new VmProtocol.Changed(name, State.Exists ? VmView.Of(State, defaults, Context.Time.GetUtcNow()) : null, recovered), Self);
}
