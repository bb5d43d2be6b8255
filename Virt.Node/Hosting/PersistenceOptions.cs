using Microsoft.Extensions.Configuration;
using Npgsql;
using Virt.Hocon;

namespace Virt.Node.Hosting;

/// <summary>Bound from <c>virt.persistence</c>: where the journal and snapshots live (Akka.Persistence.Sql).</summary>
internal sealed class PersistenceOptions : IValidatedOptions
{
    /// <summary>A VM entity saves a snapshot every this many events, so recovery reads a snapshot and a few events.</summary>
    [ConfigurationKeyName("snapshot-every")]
    public int SnapshotEvery { get; set; } = 100;

    /// <summary>How often the VM index reads new events from the journal (a listing always reads first).</summary>
    [ConfigurationKeyName("index-refresh")]
    public TimeSpan IndexRefresh { get; set; } = TimeSpan.FromMilliseconds(250);

    public SqliteSettings Sqlite { get; set; } = new();

    public PostgresSettings Postgresql { get; set; } = new();

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Postgresql.ConnectionString);

    public string SqlitePath(string dataDir) => string.IsNullOrEmpty(Sqlite.Path) ? System.IO.Path.Combine(dataDir, "journal.db") : Sqlite.Path;

    public IEnumerable<(string Key, string Problem)> Problems()
    {
        if (SnapshotEvery < 0)
            yield return ("snapshot-every", $"must be 0 (never) or more, not {SnapshotEvery}");
        if (IndexRefresh <= TimeSpan.Zero)
            yield return ("index-refresh", "must be a positive duration, like 250ms");
        if (Sqlite.Synchronous is not ("full" or "normal"))
            yield return ("sqlite.synchronous", $"'{Sqlite.Synchronous}' is not one of full, normal");
        if (!string.IsNullOrEmpty(Sqlite.Path) && !Sqlite.Path.StartsWith('/'))
            yield return ("sqlite.path", $"'{Sqlite.Path}' must be an absolute file path (or empty for journal.db in virt.data-dir)");
        if (UsesPostgres)
        {
            string? problem = null;
            try
            {
                _ = new NpgsqlConnectionStringBuilder(Postgresql.ConnectionString);
            }
            catch (ArgumentException ex)
            {
                problem = $"is not a PostgreSQL connection string ({ex.Message}); write Host=db1;Port=5432;Database=virt;Username=virt;Password=...";
            }

            if (problem is not null)
                yield return ("postgresql.connection-string", problem);
        }
    }

    internal sealed class SqliteSettings
    {
        /// <summary>The journal's file. Empty: journal.db in virt.data-dir.</summary>
        public string Path { get; set; } = "";

        /// <summary>full: every write is on disk before it is acknowledged (survives power loss); normal: survives a crash of virt-node only.</summary>
        public string Synchronous { get; set; } = "full";
    }

    internal sealed class PostgresSettings
    {
        /// <summary>Npgsql connection string; when set, the journal is in PostgreSQL (needed by every multi-node cluster).</summary>
        [ConfigurationKeyName("connection-string")]
        public string ConnectionString { get; set; } = "";
    }
}
