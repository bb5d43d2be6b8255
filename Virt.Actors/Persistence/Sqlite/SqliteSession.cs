using Microsoft.Data.Sqlite;

namespace Virt.Actors.Persistence.Sqlite;

/// <summary>One open connection with its prepared commands, reused across calls (preparing costs more than running).</summary>
internal sealed class SqliteSession : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteSession(string connectionString, string synchronous)
    {
        Connection = new SqliteConnection(connectionString);
        Connection.Open();
        using var pragma = Connection.CreateCommand();
        pragma.CommandText = $"PRAGMA synchronous={synchronous}; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=OFF;";
        pragma.ExecuteNonQuery();
    }

    public SqliteConnection Connection { get; }

    /// <summary>A prepared command for <paramref name="sql"/> whose parameters are <paramref name="parameters"/> in order.</summary>
    public SqliteCommand Command(string sql, params string[] parameters)
    {
        if (_commands.TryGetValue(sql, out var command))
            return command;
        command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
            command.Parameters.Add(new SqliteParameter(name, null));
        command.Prepare();
        _commands[sql] = command;
        return command;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
            command.Dispose();
        _commands.Clear();
        Connection.Dispose();
    }
}
