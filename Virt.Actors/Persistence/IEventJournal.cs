namespace Virt.Actors.Persistence;

/// <summary>An event to append, with the tags it can be queried by.</summary>
public sealed record EventToWrite(object Payload, IReadOnlyList<string>? Tags = null);

/// <summary>An event as stored: <see cref="Ordering"/> is the journal-wide position used as the tag-query offset.</summary>
public sealed record PersistedEvent(
    string PersistenceId,
    long SequenceNr,
    long Ordering,
    object Payload,
    string Manifest,
    IReadOnlyList<string> Tags,
    DateTimeOffset Created,
    string WriterId);

/// <summary>
/// Append-only event store, one ordered stream per persistence id. Every backend must pass
/// <c>JournalConformance</c> in Virt.Tests.
/// </summary>
public interface IEventJournal : IAsyncDisposable
{
    /// <summary>
    /// Appends <paramref name="events"/> as sequence numbers <c>expectedSequenceNr + 1 ...</c>, all or nothing.
    /// Throws <see cref="JournalConflictException"/> when the stream's highest sequence number is not
    /// <paramref name="expectedSequenceNr"/>: a second writer never interleaves. Completes once the events are stored.
    /// </summary>
    Task AppendAsync(string persistenceId, long expectedSequenceNr, IReadOnlyList<EventToWrite> events, CancellationToken cancellationToken = default);

    /// <summary>Events of one stream from <paramref name="fromSequenceNr"/> to <paramref name="toSequenceNr"/> inclusive, in order; deleted ones skipped.</summary>
    IAsyncEnumerable<PersistedEvent> ReplayAsync(string persistenceId, long fromSequenceNr, long toSequenceNr = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>Highest sequence number ever stored for the stream (deleting events does not lower it); 0 when none.</summary>
    Task<long> HighestSequenceNrAsync(string persistenceId, CancellationToken cancellationToken = default);

    /// <summary>Deletes the stream's events up to and including <paramref name="toSequenceNr"/>.</summary>
    Task DeleteToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken = default);

    /// <summary>Events carrying <paramref name="tag"/> with ordering above <paramref name="afterOrdering"/>, as stored now.</summary>
    IAsyncEnumerable<PersistedEvent> CurrentEventsByTagAsync(string tag, long afterOrdering, CancellationToken cancellationToken = default);

    /// <summary>Like <see cref="CurrentEventsByTagAsync"/>, then keeps delivering new events until cancelled.</summary>
    IAsyncEnumerable<PersistedEvent> EventsByTagAsync(string tag, long afterOrdering, CancellationToken cancellationToken = default);

    /// <summary>Every persistence id that has a stream, in no particular order.</summary>
    IAsyncEnumerable<string> CurrentPersistenceIdsAsync(CancellationToken cancellationToken = default);
}
