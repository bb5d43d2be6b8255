namespace Virt.Actors.Persistence.Sqlite;

/// <summary><see cref="ISnapshotStore"/> in the same SQLite file as the journal.</summary>
public sealed class SqliteSnapshotStore(SqliteDatabase db, EventSerializer serializer, TimeProvider? time = null) : ISnapshotStore
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public Task SaveAsync(string persistenceId, long sequenceNr, object snapshot, CancellationToken cancellationToken = default)
    {
        var (manifest, payload) = serializer.Serialize(snapshot);
        db.Use(s =>
        {
            var cmd = s.Command(
                "INSERT OR REPLACE INTO snapshot (persistence_id, sequence_nr, created, manifest, payload) VALUES ($pid, $seq, $created, $manifest, $payload)",
                "$pid", "$seq", "$created", "$manifest", "$payload");
            cmd.Parameters[0].Value = persistenceId;
            cmd.Parameters[1].Value = sequenceNr;
            cmd.Parameters[2].Value = _time.GetUtcNow().ToUnixTimeMilliseconds();
            cmd.Parameters[3].Value = manifest;
            cmd.Parameters[4].Value = payload;
            return cmd.ExecuteNonQuery();
        });
        return Task.CompletedTask;
    }

    public Task<SelectedSnapshot?> LoadAsync(string persistenceId, long maxSequenceNr = long.MaxValue, CancellationToken cancellationToken = default) =>
        Task.FromResult(db.Use(s =>
        {
            var cmd = s.Command(
                "SELECT sequence_nr, created, manifest, payload FROM snapshot WHERE persistence_id = $pid AND sequence_nr <= $max ORDER BY sequence_nr DESC LIMIT 1",
                "$pid", "$max");
            cmd.Parameters[0].Value = persistenceId;
            cmd.Parameters[1].Value = maxSequenceNr;
            using var reader = cmd.ExecuteReader();
            if (!reader.Read())
                return null;
            var metadata = new SnapshotMetadata(persistenceId, reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
            return new SelectedSnapshot(metadata, serializer.Deserialize(reader.GetString(2), (byte[])reader.GetValue(3)));
        }));

    public Task DeleteAsync(string persistenceId, long maxSequenceNr, CancellationToken cancellationToken = default)
    {
        db.Use(s =>
        {
            var cmd = s.Command("DELETE FROM snapshot WHERE persistence_id = $pid AND sequence_nr <= $max", "$pid", "$max");
            cmd.Parameters[0].Value = persistenceId;
            cmd.Parameters[1].Value = maxSequenceNr;
            return cmd.ExecuteNonQuery();
        });
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
