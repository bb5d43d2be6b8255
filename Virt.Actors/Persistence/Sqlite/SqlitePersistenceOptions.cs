using Microsoft.Extensions.Configuration;

namespace Virt.Actors.Persistence.Sqlite;

/// <summary>Bound from <c>virt.persistence.sqlite</c>; see hocon/virt.conf.</summary>
public sealed class SqlitePersistenceOptions
{
    /// <summary>Database file. Empty means <c>{virt.data-dir}/journal.db</c>.</summary>
    public string Path { get; set; } = "";

    /// <summary>SQLite synchronous level: full (fsync per batch, survives power loss), normal (survives a crash of the process).</summary>
    public string Synchronous { get; set; } = "full";

    /// <summary>Most events written in one transaction.</summary>
    [ConfigurationKeyName("max-batch-events")]
    public int MaxBatchEvents { get; set; } = 2000;

    /// <summary>How often live tag queries look for events written by other processes.</summary>
    [ConfigurationKeyName("poll-interval")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}
