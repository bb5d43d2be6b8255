using Virt.Actors.Runtime;

namespace Virt.Actors.Persistence;

/// <summary>
/// An actor whose state is the fold of its stored events. On start it recovers (latest snapshot, then later
/// events, then <see cref="RecoveryCompleted"/>); commands that arrive meanwhile, or while a write is in flight,
/// wait in the internal stash. A persist handler (the place for side effects) runs only after the event is
/// stored, never during replay. A failed write throws, so the supervisor decides (by default: restart, which
/// recovers from the journal again).
/// </summary>
public abstract class PersistentActor : Actor
{
    private readonly IEventJournal _journal;
    private readonly ISnapshotStore? _snapshots;
    private readonly object _incarnation = new();
    private Phase _phase = Phase.Recovering;
    private List<Pending>? _batch;
    private List<Pending>? _inFlight;

    protected PersistentActor(IEventJournal journal, ISnapshotStore? snapshots = null)
    {
        _journal = journal;
        _snapshots = snapshots;
    }

    private enum Phase
    {
        Recovering,
        Running,
        Persisting,
    }

    public abstract string PersistenceId { get; }

    /// <summary>Sequence number of the last event stored (and applied) by this actor.</summary>
    public long LastSequenceNr { get; private set; }

    protected bool IsRecovering => _phase == Phase.Recovering;

    /// <summary>Receives <see cref="SnapshotOffer"/>, each stored event, then <see cref="RecoveryCompleted"/>. No side effects here.</summary>
    protected abstract void ReceiveRecover(object message);

    protected abstract void ReceiveCommand(object message);

    /// <summary>Tags an event is stored with, for tag queries.</summary>
    protected virtual IReadOnlyList<string>? TagsFor(object @event) => null;

    /// <summary>Called for each event of a failed write, with <see cref="Actor.Sender"/> set to its command's sender.</summary>
    protected virtual void OnPersistFailure(Exception cause, object @event)
    {
    }

    protected sealed override void OnReceive(object message) => ReceiveCommand(message);

    protected void Persist<TEvent>(TEvent @event, Action<TEvent> handler)
        where TEvent : notnull
    {
        if (_phase == Phase.Recovering)
            throw new InvalidOperationException($"{PersistenceId}: Persist is not allowed during recovery");
        (_batch ??= []).Add(new Pending(@event, e => handler((TEvent)e), Sender));
    }

    /// <summary>Stores all events in one atomic append; <paramref name="handler"/> runs for each, in order, afterwards.</summary>
    protected void PersistAll<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler)
        where TEvent : notnull
    {
        foreach (var e in events)
            Persist(e, handler);
    }

    protected void SaveSnapshot(object snapshot)
    {
        if (_snapshots is null)
            throw new InvalidOperationException($"{PersistenceId}: no snapshot store configured");
        var metadata = new SnapshotMetadata(PersistenceId, LastSequenceNr, Context.Time.GetUtcNow());
        _snapshots.SaveAsync(PersistenceId, LastSequenceNr, snapshot)
            .PipeTo(Self, () => new SaveSnapshotSuccess(metadata), ex => new SaveSnapshotFailure(metadata, ex));
    }

    protected void DeleteEvents(long toSequenceNr) =>
        _journal.DeleteToAsync(PersistenceId, toSequenceNr)
            .PipeTo(Self, () => new DeleteEventsSuccess(toSequenceNr), ex => new DeleteEventsFailure(toSequenceNr, ex));

    internal override void AroundPreStart()
    {
        StartRecovery();
        PreStart();
    }

    internal override void AroundPostRestart(Exception reason)
    {
        StartRecovery();
        PostRestart(reason);
    }

    internal override void AroundReceive(object message)
    {
        if (message is Signal signal)
        {
            if (ReferenceEquals(signal.Incarnation, _incarnation))
                HandleSignal(signal);
            return; // a signal of an instance that has since been restarted
        }

        if (_phase != Phase.Running)
        {
            Cell.StashInternal();
            return;
        }

        ReceiveCommand(message);
        Flush();
    }

    private void StartRecovery()
    {
        _phase = Phase.Recovering;
        var incarnation = _incarnation;
        var persistenceId = PersistenceId;
        Task.Run(() => LoadAsync(persistenceId))
            .PipeTo(Self,
                success: r => new Recovered(incarnation, r.Snapshot, r.Events, r.Highest),
                failure: ex => new RecoveryFailed(incarnation, ex));
    }

    private async Task<(SelectedSnapshot? Snapshot, List<PersistedEvent> Events, long Highest)> LoadAsync(string persistenceId)
    {
        var snapshot = _snapshots is null ? null : await _snapshots.LoadAsync(persistenceId).ConfigureAwait(false);
        var from = (snapshot?.Metadata.SequenceNr ?? 0) + 1;
        var events = new List<PersistedEvent>();
        await foreach (var e in _journal.ReplayAsync(persistenceId, from).ConfigureAwait(false))
            events.Add(e);
        // Events after a deletion marker are all live, so the last replayed one is the highest; else ask.
        var highest = events.Count > 0
            ? events[^1].SequenceNr
            : await _journal.HighestSequenceNrAsync(persistenceId).ConfigureAwait(false);
        return (snapshot, events, Math.Max(highest, snapshot?.Metadata.SequenceNr ?? 0));
    }

    private void HandleSignal(Signal signal)
    {
        switch (signal)
        {
            case Recovered recovered:
                if (recovered.Snapshot is { } snapshot)
                {
                    LastSequenceNr = snapshot.Metadata.SequenceNr;
                    ReceiveRecover(new SnapshotOffer(snapshot.Metadata, snapshot.Snapshot));
                }

                foreach (var e in recovered.Events)
                {
                    LastSequenceNr = e.SequenceNr;
                    ReceiveRecover(e.Payload);
                }

                LastSequenceNr = recovered.Highest;
                _phase = Phase.Running;
                ReceiveRecover(RecoveryCompleted.Instance);
                Flush();
                if (_phase == Phase.Running)
                    Cell.UnstashAllInternal();
                break;

            case RecoveryFailed failed:
                throw new RecoveryFailedException(PersistenceId, failed.Cause);

            case Written:
                var done = _inFlight!;
                _inFlight = null;
                foreach (var pending in done)
                {
                    LastSequenceNr++;
                    Cell.OverrideSender(pending.Sender);
                    pending.Handler(pending.Event);
                }

                Cell.OverrideSender(null);
                Flush();
                if (_phase != Phase.Persisting)
                {
                    _phase = Phase.Running;
                    Cell.UnstashAllInternal();
                }

                break;

            case WriteFailed failed:
                var lost = _inFlight!;
                _inFlight = null;
                foreach (var pending in lost)
                {
                    Cell.OverrideSender(pending.Sender);
                    OnPersistFailure(failed.Cause, pending.Event);
                }

                throw new JournalWriteException(PersistenceId, LastSequenceNr + 1, failed.Cause);
        }
    }

    /// <summary>Starts writing the events persisted by the handler that just ran, if any.</summary>
    private void Flush()
    {
        if (_batch is not { Count: > 0 })
        {
            if (_phase == Phase.Persisting && _inFlight is null)
                _phase = Phase.Running;
            return;
        }

        _inFlight = _batch;
        _batch = null;
        _phase = Phase.Persisting;
        var writes = new EventToWrite[_inFlight.Count];
        for (var i = 0; i < writes.Length; i++)
            writes[i] = new EventToWrite(_inFlight[i].Event, TagsFor(_inFlight[i].Event));

        var incarnation = _incarnation;
        Task write;
        try
        {
            write = _journal.AppendAsync(PersistenceId, LastSequenceNr, writes);
        }
        catch (Exception ex)
        {
            write = Task.FromException(ex);
        }

        write.PipeTo(Self, () => new Written(incarnation), ex => new WriteFailed(incarnation, ex));
    }

    private sealed record Pending(object Event, Action<object> Handler, IActorRef? Sender);

    private abstract record Signal(object Incarnation);

    private sealed record Recovered(object Incarnation, SelectedSnapshot? Snapshot, List<PersistedEvent> Events, long Highest) : Signal(Incarnation);

    private sealed record RecoveryFailed(object Incarnation, Exception Cause) : Signal(Incarnation);

    private sealed record Written(object Incarnation) : Signal(Incarnation);

    private sealed record WriteFailed(object Incarnation, Exception Cause) : Signal(Incarnation);
}
