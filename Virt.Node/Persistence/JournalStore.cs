using System.Data;
using LinqToDB;
using LinqToDB.DataProvider.SQLite;
using Microsoft.Data.Sqlite;
using Npgsql;
using Virt.Node.Hosting;
using SqlJournalOptions = Akka.Persistence.Sql.Hosting.SqlJournalOptions;
using SqlSnapshotOptions = Akka.Persistence.Sql.Hosting.SqlSnapshotOptions;

namespace Virt.Node.Persistence;

/// <summary>
/// Where the journal and snapshots are: a SQLite file under virt.data-dir (the default), or PostgreSQL. Prepares the
/// store before Akka opens it (SQLite: the file in WAL mode, which sticks to the file) and gives the plugin options.
/// Tables are created by Akka.Persistence.Sql on first start.
/// </summary>
internal sealed record JournalStore(string Describe, SqlJournalOptions Journal, SqlSnapshotOptions Snapshots)
{
    public static JournalStore Prepare(PersistenceOptions options, string dataDir)
    {
        if (options.UsesPostgres)
        {
            var cs = options.Postgresql.ConnectionString;
            var builder = new NpgsqlConnectionStringBuilder(cs);
            return new JournalStore(
                $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}",
                new SqlJournalOptions(true) { ConnectionString = cs, ProviderName = ProviderName.PostgreSQL15, AutoInitialize = true },
                new SqlSnapshotOptions(true) { ConnectionString = cs, ProviderName = ProviderName.PostgreSQL15, AutoInitialize = true });
        }

        var path = options.SqlitePath(dataDir);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        using (var connection = new SqliteConnection(connectionString))
        {
            connection.Open();
            using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            wal.ExecuteNonQuery();
        }

        var synchronous = options.Sqlite.Synchronous;
        var data = new DataOptions()
            .UseProvider(ProviderName.SQLiteMS)
            .UseConnectionFactory(SQLiteTools.GetDataProvider(SQLiteProvider.Microsoft), _ => new SqliteJournalConnection(connectionString, synchronous));

        // The plugin still reads the connection string and provider name; the data options decide how it connects.
        return new JournalStore(
            $"SQLite {path}",
            new SqlJournalOptions(true)
            {
                ConnectionString = connectionString, ProviderName = ProviderName.SQLiteMS, DataOptions = data, AutoInitialize = true,
                ReadIsolationLevel = IsolationLevel.ReadCommitted, WriteIsolationLevel = IsolationLevel.Serializable,
            },
            new SqlSnapshotOptions(true)
            {
                ConnectionString = connectionString, ProviderName = ProviderName.SQLiteMS, DataOptions = data, AutoInitialize = true,
                ReadIsolationLevel = IsolationLevel.ReadCommitted, WriteIsolationLevel = IsolationLevel.Serializable,
            });
    }
}
