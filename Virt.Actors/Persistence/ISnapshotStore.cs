namespace Virt.Actors.Persistence;

public sealed record SnapshotMetadata(string PersistenceId, long SequenceNr, DateTimeOffset Created);

public sealed record SelectedSnapshot(SnapshotMetadata Metadata, object Snapshot);

/// <summary>Latest-state snapshots so recovery replays only the events after them.</summary>
public interface ISnapshotStore : IAsyncDisposable
{
    Task SaveAsync(string persistenceId, long sequenceNr, object snapshot, CancellationToken cancellationToken = default);

    /// <summary>The newest snapshot at or below <paramref name="maxSequenceNr"/>, or null.</summary>
    Task<SelectedSnapshot?> LoadAsync(string persistenceId, long maxSequenceNr = long.MaxValue, CancellationToken cancellationToken = default);

    /// <summary>Deletes the stream's snapshots at or below <paramref name="maxSequenceNr"/>.</summary>
    Task DeleteAsync(string persistenceId, long maxSequenceNr, CancellationToken cancellationToken = default);
}
