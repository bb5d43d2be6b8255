using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Virt.Node.Persistence;

/// <summary>
/// The SQLite connection Akka.Persistence.Sql uses for the journal. Two things Microsoft.Data.Sqlite's connection
/// string cannot say: a read transaction starts deferred (plain <c>BEGIN</c>, a snapshot read that blocks no one;
/// Microsoft.Data.Sqlite begins every transaction IMMEDIATE, taking the write lock, which serialized every
/// recovery behind the writers: measured 1.6 to 2.5 times slower recovery), and <c>synchronous</c> per connection.
/// Reads are told apart by isolation level: the journal is configured to read at ReadCommitted and write at Serializable.
/// </summary>
internal sealed class SqliteJournalConnection(string connectionString, string synchronous) : SqliteConnection(connectionString)
{
    public override void Open()
    {
        base.Open();
        using var pragma = CreateCommand();
        pragma.CommandText = $"PRAGMA synchronous = {(synchronous == "normal" ? "NORMAL" : "FULL")};";
        pragma.ExecuteNonQuery();
    }

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) =>
        BeginTransaction(IsolationLevel.Serializable, deferred: isolationLevel == IsolationLevel.ReadCommitted);
}
