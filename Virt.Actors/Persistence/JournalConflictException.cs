namespace Virt.Actors.Persistence;

/// <summary>Another writer appended to the stream first: the caller's view is stale and must be recovered again.</summary>
public sealed class JournalConflictException(string persistenceId, long expectedSequenceNr, long actualSequenceNr)
    : Exception($"journal conflict on '{persistenceId}': expected highest sequence number {expectedSequenceNr} but it is {actualSequenceNr}; another writer got there first")
{
    public string PersistenceId { get; } = persistenceId;

    public long ExpectedSequenceNr { get; } = expectedSequenceNr;

    public long ActualSequenceNr { get; } = actualSequenceNr;
}
