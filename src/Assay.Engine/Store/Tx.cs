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
    public async Task<List<T>> QueryAsync<T>(string sql, Func<Row, T> map, params (string, object?)[] ps)
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

    public static async Task<List<T>> ReadAllAsync<T>(DbCommand cmd, Func<Row, T> map)
    {
        var list = new List<T>();
        await using var r = await cmd.ExecuteReaderAsync();
        IReadOnlyDictionary<string, int>? columns = null;
        while (await r.ReadAsync())
        {
            columns ??= Row.ColumnsOf(cmd.CommandText, r);
            list.Add(map(new Row(r, columns)));
        }
        return list;
    }

    public async Task<T?> QuerySingleAsync<T>(string sql, Func<Row, T> map, params (string, object?)[] ps) where T : class
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
    ActivityThrottled,    // Queue = rate-limited task queue, At = when its next token is there; this engine only
}

/// <summary>
/// The current row of a query, read by column name — never by position, so a SELECT list and its reader cannot drift
/// apart. Positions are resolved once per statement text (the same text always yields the same columns). Readers are
/// tolerant of each driver's numeric types (SQLite long/double, Postgres bigint/double).
/// </summary>
internal readonly struct Row(DbDataReader reader, IReadOnlyDictionary<string, int> columns)
{
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyDictionary<string, int>> Layouts = new();

    /// <summary>Column positions of the result of <paramref name="sql"/>. Statements built per call (list filters) come in a
    /// few shapes; the cache is bounded all the same.</summary>
    public static IReadOnlyDictionary<string, int> ColumnsOf(string sql, DbDataReader reader)
    {
        if (Layouts.TryGetValue(sql, out var known)) return known;
        var columns = new Dictionary<string, int>(reader.FieldCount, StringComparer.Ordinal);
        for (var i = 0; i < reader.FieldCount; i++) columns[reader.GetName(i)] = i;
        if (Layouts.Count < 1024) Layouts.TryAdd(sql, columns);
        return columns;
    }

    int At(string column) =>
        columns.TryGetValue(column, out var i) ? i : throw new InvalidOperationException($"the query has no column {column}");

    public string Str(string column) => reader.GetString(At(column));

    public string? StrN(string column)
    {
        var i = At(column);
        return reader.IsDBNull(i) ? null : reader.GetString(i);
    }

    public long Long(string column) => Convert.ToInt64(reader.GetValue(At(column)));
    public double Dbl(string column) => Convert.ToDouble(reader.GetValue(At(column)));

    public double? DblN(string column)
    {
        var i = At(column);
        return reader.IsDBNull(i) ? null : Convert.ToDouble(reader.GetValue(i));
    }

    public bool Bool(string column) => Convert.ToInt64(reader.GetValue(At(column))) != 0;
    public bool IsNull(string column) => reader.IsDBNull(At(column));
}
