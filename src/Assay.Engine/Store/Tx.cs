using System.Data.Common;

namespace Assay.Engine.Store;

/// <summary>
/// One unit of work on one connection (a transaction for writes). Holds the workflow rows the
/// operation has locked — an identity map, so an operation touching a workflow twice (a parent
/// notified by a child it is cancelling) sees its own unsaved changes — and the wake-ups to
/// publish once the transaction has committed.
/// </summary>
internal sealed class Tx(DbConnection connection, DbTransaction? transaction, SqlDialect dialect, double now,
    Func<string, DbCommand>? preparedCommands = null)
{
    /// <summary>Hands out a kept, already-prepared command per SQL text (SQLite's single writer connection):
    /// parsing the SQL again for every statement costs more than running it.</summary>
    readonly Func<string, DbCommand>? _prepared = preparedCommands;

    public DbConnection Connection { get; } = connection;
    public DbTransaction? Transaction { get; } = transaction;
    public SqlDialect D { get; } = dialect;
    public double Now { get; } = now;

    public Dictionary<string, WfRow> Rows { get; } = new(StringComparer.Ordinal);
    public HashSet<Wake> Wakes { get; } = [];

    /// <summary>Events were appended (the event stream is told after commit).</summary>
    public bool Appended { get; set; }

    /// <summary>Workflow status changes to announce after commit.</summary>
    public List<Core.StatusChange> StatusChanges { get; } = [];

    public DbCommand Command(string sql, params (string Name, object? Value)[] ps)
    {
        DbCommand cmd;
        if (_prepared is not null)
        {
            cmd = _prepared(sql);
            cmd.Parameters.Clear();
        }
        else
        {
            cmd = Connection.CreateCommand();
            cmd.CommandText = sql;
        }
        cmd.Transaction = Transaction;
        foreach (var (name, value) in ps) AddParam(cmd, name, value);
        return cmd;
    }

    public static void AddParam(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }

    /// <summary>Commands from the prepared set are kept for reuse; others are disposed.</summary>
    async ValueTask DoneAsync(DbCommand cmd)
    {
        if (_prepared is null) await cmd.DisposeAsync();
    }

    public async Task<int> ExecAsync(string sql, params (string, object?)[] ps)
    {
        var cmd = Command(sql, ps);
        try { return await cmd.ExecuteNonQueryAsync(); }
        finally { await DoneAsync(cmd); }
    }

    public async Task<object?> ScalarAsync(string sql, params (string, object?)[] ps)
    {
        var cmd = Command(sql, ps);
        try
        {
            var v = await cmd.ExecuteScalarAsync();
            return v is DBNull ? null : v;
        }
        finally { await DoneAsync(cmd); }
    }

    /// <summary>Runs a query and maps every row.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> map, params (string, object?)[] ps)
    {
        var cmd = Command(sql, ps);
        try { return await ReadAllAsync(cmd, map); }
        finally { await DoneAsync(cmd); }
    }

    /// <summary>A fresh command (never from the prepared set) for SQL built per call.</summary>
    public DbCommand AdHocCommand()
    {
        var cmd = Connection.CreateCommand();
        cmd.Transaction = Transaction;
        return cmd;
    }

    public static async Task<List<T>> ReadAllAsync<T>(DbCommand cmd, Func<DbDataReader, T> map)
    {
        var list = new List<T>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) list.Add(map(r));
        return list;
    }

    public async Task<T?> QuerySingleAsync<T>(string sql, Func<DbDataReader, T> map, params (string, object?)[] ps) where T : class
    {
        var rows = await QueryAsync(sql, map, ps);
        return rows.Count > 0 ? rows[0] : null;
    }
}

/// <summary>Something became ready; published to waiting pollers after commit.</summary>
internal readonly record struct Wake(WakeKind Kind, string Queue, double At = 0);

internal enum WakeKind
{
    WorkflowTask,   // Queue = task queue
    Activity,       // Queue = task queue, At = due time
    Timer,          // At = fire time
    ActivityTimeout, // At = deadline
    WorkflowTaskReleased, // Queue = task queue; wakes every waiting poller
    ActivityReleased,     // Queue = task queue; wakes every waiting poller
}

/// <summary>Column readers by name (never by position, so a SELECT list and its reader cannot drift apart), tolerant of
/// each driver's numeric types (SQLite long/double, Postgres bigint/double).</summary>
internal static class Col
{
    public static string Str(this DbDataReader r, string column) => r.GetString(r.GetOrdinal(column));

    public static string? StrN(this DbDataReader r, string column)
    {
        var i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetString(i);
    }

    public static long Long(this DbDataReader r, string column) => Convert.ToInt64(r.GetValue(r.GetOrdinal(column)));
    public static double Dbl(this DbDataReader r, string column) => Convert.ToDouble(r.GetValue(r.GetOrdinal(column)));

    public static double? DblN(this DbDataReader r, string column)
    {
        var i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : Convert.ToDouble(r.GetValue(i));
    }

    public static bool Bool(this DbDataReader r, string column) => Convert.ToInt64(r.GetValue(r.GetOrdinal(column))) != 0;
    public static bool IsNull(this DbDataReader r, string column) => r.IsDBNull(r.GetOrdinal(column));
}
