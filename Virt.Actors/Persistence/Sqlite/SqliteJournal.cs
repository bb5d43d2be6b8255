using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Virt.Actors.Persistence.Sqlite;

/// <summary>
/// <see cref="IEventJournal"/> on SQLite. All writes go through one thread that takes whatever requests are
/// waiting and commits them in one transaction (batching is what makes fsync affordable); each request is checked
/// against its stream's highest sequence number inside that transaction, so a stale writer gets a conflict.
/// </summary>
public sealed class SqliteJournal : IEventJournal
{
    private const int PageSize = 1000;

    private const string SelectColumns =
        "SELECT j.ordering, j.persistence_id, j.sequence_nr, j.created, j.tags, j.manifest, j.payload, j.writer_id";

    private readonly SqliteDatabase _db;
    private readonly bool _ownsDatabase;
    private readonly EventSerializer _serializer;
    private readonly TimeProvider _time;
    private readonly Channel<WriteRequest> _requests = Channel.CreateUnbounded<WriteRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _writer;
    private TaskCompletionSource _written = NewSignal();

    public SqliteJournal(SqliteDatabase db, EventSerializer serializer, TimeProvider? time = null, string? writerId = null, bool ownsDatabase = false)
    {
        _db = db;
        _ownsDatabase = ownsDatabase;
        _serializer = serializer;
        _time = time ?? TimeProvider.System;
        WriterId = writerId ?? Guid.NewGuid().ToString("N");
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "virt-journal-writer" };
        _writer.Start();
    }

    public string WriterId { get; }

    public static SqliteJournal Open(string path, EventSerializer serializer, TimeProvider? time = null) =>
        new(new SqliteDatabase(new SqlitePersistenceOptions { Path = path }), serializer, time, ownsDatabase: true);

    public Task AppendAsync(string persistenceId, long expectedSequenceNr, IReadOnlyList<EventToWrite> events, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(persistenceId);
        if (expectedSequenceNr < 0)
            throw new ArgumentOutOfRangeException(nameof(expectedSequenceNr), "sequence numbers start at 1; expected must be 0 or more");
        if (events.Count == 0)
            return Task.CompletedTask;

        var created = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = new Row[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var (manifest, payload) = _serializer.Serialize(events[i].Payload);
            var tags = events[i].Tags is { Count: > 0 } t ? t : null;
            if (tags is not null && tags.Any(tag => string.IsNullOrEmpty(tag) || tag.Contains(';')))
                throw new ArgumentException("tags must be non-empty and must not contain ';'", nameof(events));
            rows[i] = new Row(expectedSequenceNr + 1 + i, created, tags, manifest, payload);
        }

        var request = new AppendRequest(persistenceId, expectedSequenceNr, rows);
        if (!_requests.Writer.TryWrite(request))
            throw new ObjectDisposedException(nameof(SqliteJournal));
        return request.Done.Task;
    }

    public async IAsyncEnumerable<PersistedEvent> ReplayAsync(
        string persistenceId, long fromSequenceNr, long toSequenceNr = long.MaxValue,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var from = Math.Max(1, fromSequenceNr);
        while (from <= toSequenceNr)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = _db.Use(s =>
            {
                var cmd = s.Command(
                    SelectColumns + " FROM journal j WHERE j.persistence_id = $pid AND j.sequence_nr >= $from AND j.sequence_nr <= $to AND j.is_deleted = 0 ORDER BY j.sequence_nr LIMIT $limit",
                    "$pid", "$from", "$to", "$limit");
                cmd.Parameters[0].Value = persistenceId;
                cmd.Parameters[1].Value = from;
                cmd.Parameters[2].Value = toSequenceNr;
                cmd.Parameters[3].Value = PageSize;
                return ReadEvents(cmd);
            });
            foreach (var e in page)
                yield return e;
            if (page.Count < PageSize)
                yield break;
            from = page[^1].SequenceNr + 1;
            await Task.Yield();
        }
    }

    public Task<long> HighestSequenceNrAsync(string persistenceId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_db.Use(s => Highest(s, persistenceId)));

    public Task DeleteToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken = default)
    {
        var request = new DeleteRequest(persistenceId, toSequenceNr);
        if (!_requests.Writer.TryWrite(request))
            throw new ObjectDisposedException(nameof(SqliteJournal));
        return request.Done.Task;
    }

    public async IAsyncEnumerable<PersistedEvent> CurrentEventsByTagAsync(
        string tag, long afterOrdering, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = TagPage(tag, afterOrdering);
            foreach (var e in page)
                yield return e;
            if (page.Count < PageSize)
                yield break;
            afterOrdering = page[^1].Ordering;
            await Task.Yield();
        }
    }

    public async IAsyncEnumerable<PersistedEvent> EventsByTagAsync(
        string tag, long afterOrdering, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var written = Volatile.Read(ref _written).Task; // taken before reading, so no write slips between
            var page = TagPage(tag, afterOrdering);
            foreach (var e in page)
                yield return e;
            if (page.Count > 0)
                afterOrdering = page[^1].Ordering;
            if (page.Count == PageSize)
                continue;
            try
            {
                await written.WaitAsync(_db.Options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Poll: another process may have written.
            }
        }
    }

    public async IAsyncEnumerable<string> CurrentPersistenceIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var ids = _db.Use(s =>
        {
            var cmd = s.Command("SELECT DISTINCT persistence_id FROM journal");
            var list = new List<string>();
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
                list.Add(reader.GetString(0));
            return list;
        });
        foreach (var id in ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return id;
        }

        await Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await Task.Run(() => _writer.Join()).ConfigureAwait(false);
        if (_ownsDatabase)
            _db.Dispose();
    }

    private List<PersistedEvent> TagPage(string tag, long afterOrdering) =>
        _db.Use(s =>
        {
            var cmd = s.Command(
                SelectColumns + " FROM tags t JOIN journal j ON j.ordering = t.ordering_id WHERE t.tag = $tag AND t.ordering_id > $after AND j.is_deleted = 0 ORDER BY t.ordering_id LIMIT $limit",
                "$tag", "$after", "$limit");
            cmd.Parameters[0].Value = tag;
            cmd.Parameters[1].Value = afterOrdering;
            cmd.Parameters[2].Value = PageSize;
            return ReadEvents(cmd);
        });

    private List<PersistedEvent> ReadEvents(SqliteCommand cmd)
    {
        var list = new List<PersistedEvent>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            var manifest = reader.GetString(5);
            var payload = (byte[])reader.GetValue(6);
            var tags = reader.IsDBNull(4) ? [] : reader.GetString(4).Split(';');
            list.Add(new PersistedEvent(
                reader.GetString(1),
                reader.GetInt64(2),
                reader.GetInt64(0),
                _serializer.Deserialize(manifest, payload),
                manifest,
                tags,
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                reader.GetString(7)));
        }

        return list;
    }

    private static long Highest(SqliteSession s, string persistenceId)
    {
        var cmd = s.Command("SELECT COALESCE(MAX(sequence_nr), 0) FROM journal WHERE persistence_id = $pid", "$pid");
        cmd.Parameters[0].Value = persistenceId;
        return (long)cmd.ExecuteScalar()!;
    }

    private void WriteLoop()
    {
        using var session = _db.OpenSession();
        using var statements = new WriteStatements(session);
        var batch = new List<WriteRequest>();
        var reader = _requests.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            var events = 0;
            while (events < _db.Options.MaxBatchEvents && reader.TryRead(out var request))
            {
                batch.Add(request);
                events += request is AppendRequest a ? a.Rows.Length : 1;
            }

            WriteBatch(statements, session, batch);
        }
    }

    /// <summary>
    /// One transaction for the whole batch. If it fails as a whole (disk full, I/O error), each request is retried
    /// alone so one bad request cannot fail its neighbours.
    /// </summary>
    private void WriteBatch(WriteStatements statements, SqliteSession session, List<WriteRequest> batch)
    {
        var outcomes = new Exception?[batch.Count];
        try
        {
            using (var tx = session.Connection.BeginTransaction())
            {
                for (var i = 0; i < batch.Count; i++)
                    outcomes[i] = Execute(statements, session, tx, batch[i]);
                tx.Commit();
            }

            Complete(batch, outcomes);
        }
        catch (Exception) when (batch.Count > 1)
        {
            foreach (var request in batch)
                WriteBatch(statements, session, [request]);
        }
        catch (Exception ex)
        {
            batch[0].Done.TrySetException(ex);
        }
    }

    private void Complete(List<WriteRequest> batch, Exception?[] outcomes)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i] is { } error)
                batch[i].Done.TrySetException(error);
            else
                batch[i].Done.TrySetResult();
        }

        Interlocked.Exchange(ref _written, NewSignal()).TrySetResult();
    }

    /// <summary>Applies one request inside the open transaction; a conflict is returned, not thrown, and writes nothing.</summary>
    private Exception? Execute(WriteStatements w, SqliteSession s, SqliteTransaction tx, WriteRequest request)
    {
        switch (request)
        {
            case AppendRequest append:
            {
                w.Highest.Bind(1, append.PersistenceId).Step(out var highest);
                if (highest != append.ExpectedSequenceNr)
                    return new JournalConflictException(append.PersistenceId, append.ExpectedSequenceNr, highest);
                foreach (var row in append.Rows)
                {
                    w.Insert.Bind(1, append.PersistenceId).Bind(2, row.SequenceNr).Bind(3, row.Created)
                        .Bind(4, row.Tags is null ? null : string.Join(';', row.Tags))
                        .Bind(5, row.Manifest).Bind(6, row.Payload).Bind(7, WriterId)
                        .Execute();
                    if (row.Tags is null)
                        continue;
                    var ordering = w.Insert.LastInsertRowId;
                    foreach (var tag in row.Tags)
                        w.Tag.Bind(1, ordering).Bind(2, tag).Bind(3, append.PersistenceId).Bind(4, row.SequenceNr).Execute();
                }

                return null;
            }

            case DeleteRequest delete:
            {
                w.Highest.Bind(1, delete.PersistenceId).Step(out var highest);
                using var cmd = s.Connection.CreateCommand();
                cmd.Transaction = tx;
                cmd.Parameters.AddWithValue("$pid", delete.PersistenceId);
                cmd.Parameters.AddWithValue("$to", Math.Min(delete.ToSequenceNr, highest - 1));
                cmd.Parameters.AddWithValue("$highest", highest);
                // The highest row is only marked deleted, never removed: it keeps its sequence number taken.
                cmd.CommandText = """
                    DELETE FROM tags WHERE ordering_id IN (SELECT ordering FROM journal WHERE persistence_id = $pid AND sequence_nr <= $to);
                    DELETE FROM journal WHERE persistence_id = $pid AND sequence_nr <= $to;
                    """;
                cmd.ExecuteNonQuery();
                if (delete.ToSequenceNr >= highest && highest > 0)
                {
                    cmd.CommandText = """
                        DELETE FROM tags WHERE ordering_id IN (SELECT ordering FROM journal WHERE persistence_id = $pid AND sequence_nr = $highest);
                        UPDATE journal SET is_deleted = 1 WHERE persistence_id = $pid AND sequence_nr = $highest;
                        """;
                    cmd.ExecuteNonQuery();
                }

                return null;
            }

            default:
                return new InvalidOperationException($"unknown journal request {request.GetType().Name}");
        }
    }

    /// <summary>The writer thread's prepared statements (positional, see <see cref="SqliteRawStatement"/>).</summary>
    private sealed class WriteStatements(SqliteSession session) : IDisposable
    {
        public SqliteRawStatement Highest { get; } = new(session.Connection,
            "SELECT MAX(sequence_nr) FROM journal WHERE persistence_id = ?1");

        public SqliteRawStatement Insert { get; } = new(session.Connection,
            "INSERT INTO journal (persistence_id, sequence_nr, created, tags, manifest, payload, writer_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");

        public SqliteRawStatement Tag { get; } = new(session.Connection,
            "INSERT INTO tags (ordering_id, tag, persistence_id, sequence_nr) VALUES (?1, ?2, ?3, ?4)");

        public void Dispose()
        {
            Highest.Dispose();
            Insert.Dispose();
            Tag.Dispose();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Row(long SequenceNr, long Created, IReadOnlyList<string>? Tags, string Manifest, byte[] Payload);

    private abstract record WriteRequest(string PersistenceId)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record AppendRequest(string PersistenceId, long ExpectedSequenceNr, Row[] Rows) : WriteRequest(PersistenceId);

    private sealed record DeleteRequest(string PersistenceId, long ToSequenceNr) : WriteRequest(PersistenceId);
}
