using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Virt.Actors.Persistence.Sqlite;

/// <summary>
/// One SQLite file holding the journal, tags and snapshots (tables shaped like Akka.Persistence.Sql's).
/// WAL mode lets readers run beside the single writer. Reads borrow pooled sessions.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS journal (
            ordering       INTEGER PRIMARY KEY AUTOINCREMENT,
            persistence_id TEXT    NOT NULL,
            sequence_nr    INTEGER NOT NULL,
            is_deleted     INTEGER NOT NULL DEFAULT 0,
            created        INTEGER NOT NULL,
            tags           TEXT    NULL,
            manifest       TEXT    NOT NULL,
            payload        BLOB    NOT NULL,
            writer_id      TEXT    NOT NULL,
            UNIQUE (persistence_id, sequence_nr));
        CREATE TABLE IF NOT EXISTS tags (
            ordering_id    INTEGER NOT NULL,
            tag            TEXT    NOT NULL,
            persistence_id TEXT    NOT NULL,
            sequence_nr    INTEGER NOT NULL,
            PRIMARY KEY (tag, ordering_id));
        CREATE TABLE IF NOT EXISTS snapshot (
            persistence_id TEXT    NOT NULL,
            sequence_nr    INTEGER NOT NULL,
            created        INTEGER NOT NULL,
            manifest       TEXT    NOT NULL,
            payload        BLOB    NOT NULL,
            PRIMARY KEY (persistence_id, sequence_nr));
        """;

    private readonly ConcurrentBag<SqliteSession> _idle = new();
    private readonly string _connectionString;
    private int _disposed;

    public SqliteDatabase(SqlitePersistenceOptions options)
    {
        Options = options;
        var synchronous = options.Synchronous.ToLowerInvariant();
        if (synchronous is not ("full" or "normal" or "extra"))
            throw new ArgumentException($"virt.persistence.sqlite.synchronous must be full, normal or extra, not '{options.Synchronous}'");
        Synchronous = synchronous;
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(options.Path));
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // sessions are pooled here, with their prepared commands
            DefaultTimeout = 30,
        }.ToString();

        using var setup = new SqliteSession(_connectionString, Synchronous);
        using var command = setup.Connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"SQLite at {options.Path} refused WAL mode (got '{mode}')");
        command.CommandText = Schema;
        command.ExecuteNonQuery();
    }

    public SqlitePersistenceOptions Options { get; }

    internal string Synchronous { get; }

    internal SqliteSession OpenSession() => new(_connectionString, Synchronous);

    internal SqliteSession Rent() => _idle.TryTake(out var session) ? session : OpenSession();

    internal void Return(SqliteSession session)
    {
        if (Volatile.Read(ref _disposed) == 0 && _idle.Count < 16)
            _idle.Add(session);
        else
            session.Dispose();
    }

    /// <summary>Runs <paramref name="work"/> on a pooled session, returning the session afterwards.</summary>
    internal T Use<T>(Func<SqliteSession, T> work)
    {
        var session = Rent();
        try
        {
            return work(session);
        }
        finally
        {
            Return(session);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        while (_idle.TryTake(out var session))
            session.Dispose();
    }
}
