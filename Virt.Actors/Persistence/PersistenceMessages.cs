namespace Virt.Actors.Persistence;

/// <summary>Last message of recovery: state is rebuilt and commands start to flow.</summary>
public sealed class RecoveryCompleted
{
    public static readonly RecoveryCompleted Instance = new();

    private RecoveryCompleted()
    {
    }
}

/// <summary>First recovery message when a snapshot exists; events after it follow.</summary>
public sealed record SnapshotOffer(SnapshotMetadata Metadata, object Snapshot);

public sealed record SaveSnapshotSuccess(SnapshotMetadata Metadata);

public sealed record SaveSnapshotFailure(SnapshotMetadata Metadata, Exception Cause);

public sealed record DeleteEventsSuccess(long ToSequenceNr);

public sealed record DeleteEventsFailure(long ToSequenceNr, Exception Cause);

/// <summary>Storing events failed; the actor stops taking commands and its supervisor decides what happens next.</summary>
public sealed class JournalWriteException(string persistenceId, long sequenceNr, Exception cause)
    : Exception($"could not store event {sequenceNr} of '{persistenceId}': {cause.Message}", cause);

public sealed class RecoveryFailedException(string persistenceId, Exception cause)
    : Exception($"recovery of '{persistenceId}' failed: {cause.Message}", cause);
