using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Virt.Actors.Persistence.Sqlite;

/// <summary>
/// A prepared statement driven through SQLitePCLRaw (the layer Microsoft.Data.Sqlite is built on) with
/// positional binding. Used only on the journal's write path: Microsoft.Data.Sqlite binds every parameter by
/// name on every execution, which cost more than the insert itself (measured: ~20 µs vs ~3 µs per event).
/// </summary>
internal sealed class SqliteRawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;

    public SqliteRawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_db, sql, out _stmt), _db);
    }

    public long LastInsertRowId => raw.sqlite3_last_insert_rowid(_db);

    public SqliteRawStatement Bind(int index, long value)
    {
        Check(raw.sqlite3_bind_int64(_stmt, index, value));
        return this;
    }

    public SqliteRawStatement Bind(int index, string? value)
    {
        Check(value is null ? raw.sqlite3_bind_null(_stmt, index) : raw.sqlite3_bind_text(_stmt, index, value));
        return this;
    }

    public SqliteRawStatement Bind(int index, byte[] value)
    {
        Check(raw.sqlite3_bind_blob(_stmt, index, value));
        return this;
    }

    /// <summary>Runs the statement to completion (or its first row) and resets it; true when a row came back.</summary>
    public bool Step(out long firstColumn)
    {
        try
        {
            var rc = raw.sqlite3_step(_stmt);
            if (rc == raw.SQLITE_ROW)
            {
                firstColumn = raw.sqlite3_column_type(_stmt, 0) == raw.SQLITE_NULL ? 0 : raw.sqlite3_column_int64(_stmt, 0);
                return true;
            }

            Check(rc == raw.SQLITE_DONE ? raw.SQLITE_OK : rc);
            firstColumn = 0;
            return false;
        }
        finally
        {
            raw.sqlite3_reset(_stmt);
            raw.sqlite3_clear_bindings(_stmt);
        }
    }

    public void Execute() => Step(out _);

    public void Dispose() => _stmt.Dispose();

    private void Check(int rc) => SqliteException.ThrowExceptionForRC(rc, _db);
}
