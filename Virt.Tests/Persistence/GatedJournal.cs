using System.Runtime.CompilerServices;
using Virt.Actors.Persistence;

namespace Virt.Tests.Persistence;

/// <summary>
/// Wraps a real journal so a test can hold replays or appends at a gate, or make the next append fail,
/// to observe what an actor does while its I/O is in flight.
/// </summary>
public sealed class GatedJournal(IEventJournal inner) : IEventJournal
{
    private volatile TaskCompletionSource _replayGate = Open();
    private volatile TaskCompletionSource _appendGate = Open();
    private int _failNextAppends;

    public int Appends;

    public void HoldReplays() => _replayGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseReplays() => _replayGate.TrySetResult();

    public void HoldAppends() => _appendGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseAppends() => _appendGate.TrySetResult();

    public void FailNextAppend() => Interlocked.Increment(ref _failNextAppends);

    public async Task AppendAsync(string persistenceId, long expectedSequenceNr, IReadOnlyList<EventToWrite> events, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Appends);
        await _appendGate.Task;
        if (Interlocked.Decrement(ref _failNextAppends) >= 0)
            throw new IOException("disk on fire");
        Interlocked.Exchange(ref _failNextAppends, 0);
        await inner.AppendAsync(persistenceId, expectedSequenceNr, events, cancellationToken);
    }

    public async IAsyncEnumerable<PersistedEvent> ReplayAsync(string persistenceId, long fromSequenceNr, long toSequenceNr = long.MaxValue, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _replayGate.Task;
        await foreach (var e in inner.ReplayAsync(persistenceId, fromSequenceNr, toSequenceNr, cancellationToken))
            yield return e;
    }

    public Task<long> HighestSequenceNrAsync(string persistenceId, CancellationToken cancellationToken = default) => inner.HighestSequenceNrAsync(persistenceId, cancellationToken);

    public Task DeleteToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken = default) => inner.DeleteToAsync(persistenceId, toSequenceNr, cancellationToken);

    public IAsyncEnumerable<PersistedEvent> CurrentEventsByTagAsync(string tag, long afterOrdering, CancellationToken cancellationToken = default) => inner.CurrentEventsByTagAsync(tag, afterOrdering, cancellationToken);

    public IAsyncEnumerable<PersistedEvent> EventsByTagAsync(string tag, long afterOrdering, CancellationToken cancellationToken = default) => inner.EventsByTagAsync(tag, afterOrdering, cancellationToken);

    public IAsyncEnumerable<string> CurrentPersistenceIdsAsync(CancellationToken cancellationToken = default) => inner.CurrentPersistenceIdsAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private static TaskCompletionSource Open()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }
}
