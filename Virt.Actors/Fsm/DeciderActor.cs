using Virt.Actors.Persistence;
using Virt.Actors.Runtime;

namespace Virt.Actors.Fsm;

/// <summary>
/// A persistent actor driven by an <see cref="IDecider{TState,TCommand,TEvent}"/>: each command is decided,
/// its events stored, applied, and then the sender gets a <see cref="CommandResult{TState,TEvent}"/> and
/// <see cref="OnPersisted"/> runs the side effects. Replay only applies events. State timeouts are actor timers.
/// </summary>
public abstract class DeciderActor<TState, TCommand, TEvent> : PersistentActor
    where TCommand : notnull
    where TEvent : notnull
{
    private const string TimeoutTimerKey = "state-timeout";
    private readonly IDecider<TState, TCommand, TEvent> _decider;
    private readonly StateTimeoutTracker<TCommand> _timeout = new();

    protected DeciderActor(IDecider<TState, TCommand, TEvent> decider, IEventJournal journal, ISnapshotStore? snapshots = null)
        : base(journal, snapshots)
    {
        _decider = decider;
        State = decider.Initial;
    }

    protected TState State { get; private set; }

    /// <summary>Save a snapshot every this many events (0: never).</summary>
    protected virtual int SnapshotEvery => 0;

    /// <summary>Side effects of stored events; never called during replay.</summary>
    protected virtual void OnPersisted(TState before, TState after, IReadOnlyList<TEvent> events)
    {
    }

    /// <summary>Recovery is over; reconcile with the world here.</summary>
    protected virtual void OnRecovered()
    {
    }

    /// <summary>Messages that are neither commands nor timeouts.</summary>
    protected virtual void OnOther(object message) => Unhandled(message);

    protected override void ReceiveRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: TState snapshot }:
                State = snapshot;
                break;
            case TEvent e:
                State = _decider.Apply(State, e);
                break;
            case RecoveryCompleted:
                RearmTimeout();
                OnRecovered();
                break;
        }
    }

    protected override void ReceiveCommand(object message)
    {
        switch (message)
        {
            case TCommand command:
                Decide(command, Sender);
                break;
            case TimeoutFired fired:
                if (_timeout.IsCurrent(fired.Key))
                {
                    _timeout.Update(null, Context.Time.GetUtcNow()); // so the same state re-arms after this
                    Decide(fired.Command, null);
                }

                break;
            case SaveSnapshotSuccess or SaveSnapshotFailure:
                break;
            default:
                OnOther(message);
                break;
        }
    }

    /// <summary>Decides a command as if it had arrived now; <paramref name="replyTo"/> gets the result (null: nobody).</summary>
    protected void Decide(TCommand command, IActorRef? replyTo)
    {
        var decision = _decider.Decide(State, command, Context.Time.GetUtcNow());
        switch (decision)
        {
            case Decision<TEvent>.Rejected rejected:
                RearmTimeout();
                replyTo?.Tell(new CommandResult<TState, TEvent>(false, rejected.Reason, State, []));
                break;
            case Decision<TEvent>.Accepted { Events.Count: 0 }:
                RearmTimeout();
                replyTo?.Tell(new CommandResult<TState, TEvent>(true, null, State, []));
                break;
            case Decision<TEvent>.Accepted accepted:
                var before = State;
                var remaining = accepted.Events.Count;
                PersistAll(accepted.Events, e =>
                {
                    State = _decider.Apply(State, e);
                    if (--remaining > 0)
                        return;
                    if (SnapshotEvery > 0 && LastSequenceNr % SnapshotEvery < accepted.Events.Count)
                        SaveSnapshot(State!);
                    RearmTimeout();
                    // Side effects first: anything they tell others is then queued before the requester hears back.
                    OnPersisted(before, State, accepted.Events);
                    replyTo?.Tell(new CommandResult<TState, TEvent>(true, null, State, accepted.Events));
                });
                break;
        }
    }

    private void RearmTimeout()
    {
        var next = _decider.TimeoutFor(State);
        if (_timeout.Update(next, Context.Time.GetUtcNow()))
            Context.Timers.StartSingleTimer(TimeoutTimerKey, new TimeoutFired(next!.Key, next.Command), next.After);
        else if (next is null)
            Context.Timers.Cancel(TimeoutTimerKey);
    }

    private sealed record TimeoutFired(string Key, TCommand Command);
}
