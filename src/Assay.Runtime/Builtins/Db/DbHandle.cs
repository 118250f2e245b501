using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using MySqlConnector;
using Npgsql;
using NpgsqlTypes;

namespace Assay.Runtime.Builtins.Db;

enum QueryMode { Rows, One, Execute }

/// <summary>A JSON document parameter (from a Lua table) or column value (json/jsonb columns).</summary>
sealed record JsonText(string Text);

sealed record QueryResult(string[] Columns, List<object?[]> Rows, long RowsAffected, long? LastInsertId);

/// <summary>
/// One <c>db.connect</c> result. SQLite: a single connection, operations serialized by a gate.
/// Postgres/MySQL: a pool; each statement borrows a connection. A transaction pins one
/// connection to the task that began it: that task's statements go to it, other tasks' do not
/// (on SQLite they wait until it ends). Every method runs off the loop thread.
/// </summary>
sealed class DbHandle(DbUrl url, double? defaultTimeout)
{
    public DbUrl Url { get; } = url;
    public DbKind Kind => Url.Kind;
    public double? DefaultTimeout { get; } = defaultTimeout;
    public bool Closed { get; private set; }

    readonly SemaphoreSlim _gate = new(1, 1);
    SqliteConnection? _sqlite;
    NpgsqlDataSource? _pg;
    readonly ConcurrentDictionary<object, TxState> _transactions = new();

    sealed class TxState(DbConnection conn, DbTransaction tx, bool pooled)
    {
        public DbConnection Conn = conn;
        public DbTransaction Tx = tx;
        public bool Pooled = pooled;
        public int Depth = 1;
    }

    static readonly object NoTask = new();
    static object Key(object? owner) => owner ?? NoTask;

    public async Task OpenAsync(CancellationToken ct)
    {
        switch (Kind)
        {
            case DbKind.Sqlite:
                _sqlite = new SqliteConnection(Url.ConnectionString);
                await _sqlite.OpenAsync(ct).ConfigureAwait(false);
                using (var pragma = _sqlite.CreateCommand())
                {
                    pragma.CommandText = "PRAGMA busy_timeout = 5000";
                    await pragma.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                break;
            case DbKind.Postgres:
                _pg = NpgsqlDataSource.Create(Url.ConnectionString);
                await using (var c = await _pg.OpenConnectionAsync(ct).ConfigureAwait(false)) { }
                break;
            case DbKind.MySql:
                await using (var c = new MySqlConnection(Url.ConnectionString))
                    await c.OpenAsync(ct).ConfigureAwait(false);
                break;
        }
    }

    async Task<DbConnection> BorrowAsync(CancellationToken ct)
    {
        if (Kind == DbKind.Postgres) return await _pg!.OpenConnectionAsync(ct).ConfigureAwait(false);
        var c = new MySqlConnection(Url.ConnectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        return c;
    }

    void CheckOpen()
    {
        if (Closed) throw new BuiltinError("connection is closed");
    }

    // ---------------------------------------------------------------- statements

    public async Task<QueryResult> RunAsync(object? owner, string sql, object?[] args, QueryMode mode, double? timeout, CancellationToken cancel)
    {
        CheckOpen();
        timeout ??= DefaultTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (timeout is { } t) deadline.CancelAfter(TimeSpan.FromSeconds(t));
        var ct = deadline.Token;
        try
        {
            if (_transactions.TryGetValue(Key(owner), out var tx))
                return await ExecuteAsync(tx.Conn, tx.Tx, sql, args, mode, ct).ConfigureAwait(false);
            if (Kind == DbKind.Sqlite)
            {
                await _gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    CheckOpen();
                    return await ExecuteAsync(_sqlite!, null, sql, args, mode, ct).ConfigureAwait(false);
                }
                finally { _gate.Release(); }
            }
            await using var conn = await BorrowAsync(ct).ConfigureAwait(false);
            return await ExecuteAsync(conn, null, sql, args, mode, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (deadline.IsCancellationRequested && !cancel.IsCancellationRequested &&
                                  e is OperationCanceledException or DbException or InvalidOperationException)
        {
            throw new BuiltinError($"query timed out after {timeout!.Value.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (DbException e)
        {
            throw new BuiltinError(Describe(e));
        }
    }

    static string Describe(DbException e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState}){(pg.Detail is { Length: > 0 } d ? ": " + d : "")}",
        SqliteException sq => sq.Message.StartsWith("SQLite Error", StringComparison.Ordinal) ? sq.Message : $"SQLite: {sq.Message}",
        _ => e.Message,
    };

    async Task<QueryResult> ExecuteAsync(DbConnection conn, DbTransaction? tx, string sql, object?[] args, QueryMode mode, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandTimeout = 0;
        cmd.CommandText = Kind == DbKind.Sqlite ? SqlitePlaceholders.Number(sql) : sql;
        Bind(cmd, args);
        using var interrupt = Kind == DbKind.Sqlite
            ? ct.Register(static c => SQLitePCL.raw.sqlite3_interrupt(((SqliteConnection)c!).Handle), conn)
            : default;
        if (mode == QueryMode.Execute)
        {
            long affected = await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            long? lastId = null;
            if (Kind == DbKind.Sqlite && affected > 0 && SqlitePlaceholders.IsInsert(sql))
                lastId = SQLitePCL.raw.sqlite3_last_insert_rowid(((SqliteConnection)conn).Handle);
            else if (cmd is MySqlCommand my && my.LastInsertedId > 0)
                lastId = my.LastInsertedId;
            return new QueryResult([], [], affected, lastId);
        }
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var columns = new string[reader.FieldCount];
        var types = new string[reader.FieldCount];
        for (int i = 0; i < columns.Length; i++)
        {
            columns[i] = reader.GetName(i);
            types[i] = reader.GetDataTypeName(i);
        }
        var rows = new List<object?[]>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var row = new object?[columns.Length];
            for (int i = 0; i < row.Length; i++) row[i] = ReadValue(reader, i, columns[i], types[i]);
            rows.Add(row);
            if (mode == QueryMode.One) break;
        }
        return new QueryResult(columns, rows, reader.RecordsAffected, null);
    }

    void Bind(DbCommand cmd, object?[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var v = args[i] ?? DBNull.Value;
            switch (Kind)
            {
                case DbKind.Postgres:
                    var p = new NpgsqlParameter { Value = v is JsonText j ? j.Text : v };
                    if (v is JsonText) p.NpgsqlDbType = NpgsqlDbType.Jsonb;
                    cmd.Parameters.Add(p);
                    break;
                case DbKind.MySql:
                    cmd.Parameters.Add(new MySqlParameter { Value = v is JsonText jm ? jm.Text : v });
                    break;
                default:
                    var value = v is JsonText js ? js.Text : v;
                    cmd.Parameters.Add(new SqliteParameter("?" + (i + 1).ToString(CultureInfo.InvariantCulture), value));
                    cmd.Parameters.Add(new SqliteParameter("$" + (i + 1).ToString(CultureInfo.InvariantCulture), value));
                    break;
            }
        }
    }

    // ---------------------------------------------------------------- values

    static object? ReadValue(DbDataReader r, int i, string column, string type)
    {
        if (r.IsDBNull(i)) return null;
        object v;
        try { v = r.GetValue(i); }
        catch (Exception e) when (e is InvalidCastException or NotSupportedException or InvalidOperationException or OverflowException)
        {
            try { return r.GetFieldValue<string>(i); }
            catch (Exception) { throw new BuiltinError($"column '{column}' ({type}): cannot read the value: {e.Message}"); }
        }
        return Normalize(v, type);
    }

    static bool Is(string type, params string[] names)
    {
        foreach (var n in names) if (string.Equals(type, n, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    static object? Normalize(object v, string type) => v switch
    {
        string s when Is(type, "json", "jsonb") => new JsonText(s),
        long or int or short or sbyte or byte or ushort or uint when Is(type, "bool", "boolean") => Convert.ToInt64(v, CultureInfo.InvariantCulture) != 0,
        bool or long or int or short or sbyte or byte or ushort or uint or double or float or string or byte[] => v,
        ulong u => u <= long.MaxValue ? (long)u : (double)u,
        decimal d => (double)d,
        DateTime dt when Is(type, "date") => dt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateTime dt => dt.ToString(dt.Kind == DateTimeKind.Utc ? "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset dto => dto.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly t => t.ToString("HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        TimeSpan ts => ts.ToString("c", CultureInfo.InvariantCulture),
        Guid g => g.ToString(),
        char c => c.ToString(),
        Array a when v is not byte[] => a.Cast<object?>().Select(e => e is null or DBNull ? null : Normalize(e, type.TrimEnd(']', '[').Replace("[]", ""))).ToList(),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture),
    };

    // ---------------------------------------------------------------- transactions

    /// <summary>Begins a transaction for <paramref name="owner"/> (a savepoint when one is open); returns the depth.</summary>
    public async Task<int> BeginAsync(object? owner, CancellationToken ct)
    {
        CheckOpen();
        var key = Key(owner);
        try
        {
            if (_transactions.TryGetValue(key, out var open))
            {
                await open.Tx.SaveAsync(Savepoint(open.Depth + 1), ct).ConfigureAwait(false);
                return ++open.Depth;
            }
            if (Kind == DbKind.Sqlite)
            {
                await _gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    CheckOpen();
                    var tx = await _sqlite!.BeginTransactionAsync(ct).ConfigureAwait(false);
                    _transactions[key] = new TxState(_sqlite, tx, pooled: false);
                }
                catch
                {
                    _gate.Release();
                    throw;
                }
                return 1;
            }
            var conn = await BorrowAsync(ct).ConfigureAwait(false);
            try
            {
                var tx = await conn.BeginTransactionAsync(ct).ConfigureAwait(false);
                _transactions[key] = new TxState(conn, tx, pooled: true);
            }
            catch
            {
                await conn.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            return 1;
        }
        catch (DbException e) { throw new BuiltinError(Describe(e)); }
    }

    static string Savepoint(int depth) => "assay_sp" + depth.ToString(CultureInfo.InvariantCulture);

    /// <summary>Commits (or releases the innermost savepoint of) <paramref name="owner"/>'s transaction.</summary>
    public Task EndAsync(object? owner, bool commit) => EndCoreAsync(Key(owner), commit);

    async Task EndCoreAsync(object key, bool commit)
    {
        if (!_transactions.TryGetValue(key, out var st)) throw new BuiltinError("no transaction is open in this task");
        try
        {
            if (st.Depth > 1)
            {
                var name = Savepoint(st.Depth);
                st.Depth--;
                if (!commit) await st.Tx.RollbackAsync(name).ConfigureAwait(false);
                await st.Tx.ReleaseAsync(name).ConfigureAwait(false);
                return;
            }
            try
            {
                if (commit) await st.Tx.CommitAsync().ConfigureAwait(false);
                else await st.Tx.RollbackAsync().ConfigureAwait(false);
            }
            finally
            {
                _transactions.TryRemove(key, out _);
                await st.Tx.DisposeAsync().ConfigureAwait(false);
                if (st.Pooled) await st.Conn.DisposeAsync().ConfigureAwait(false);
                else _gate.Release();
            }
        }
        catch (DbException e) { throw new BuiltinError(Describe(e)); }
    }

    // ---------------------------------------------------------------- closing

    /// <summary>Marks the handle closed and releases its resources in the background.</summary>
    public void Close()
    {
        if (Closed) return;
        Closed = true;
        _ = Task.Run(async () =>
        {
            foreach (var key in _transactions.Keys.ToList())
            {
                try { await EndCoreAsync(key, commit: false).ConfigureAwait(false); } catch (Exception) { }
            }
            if (_sqlite != null)
            {
                bool entered = await _gate.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                await _sqlite.DisposeAsync().ConfigureAwait(false);
                if (entered) _gate.Release();
            }
            if (_pg != null) await _pg.DisposeAsync().ConfigureAwait(false);
        });
    }
}

/// <summary>SQLite placeholders: bare <c>?</c> becomes <c>?1, ?2…</c> (outside literals and comments).</summary>
static class SqlitePlaceholders
{
    public static string Number(string sql)
    {
        if (!sql.Contains('?')) return sql;
        var sb = new StringBuilder(sql.Length + 8);
        int n = 0;
        for (int i = 0; i < sql.Length; i++)
        {
            char c = sql[i];
            if (c is '\'' or '"' or '`' or '[')
            {
                char close = c == '[' ? ']' : c;
                int end = sql.IndexOf(close, i + 1);
                if (end < 0) end = sql.Length - 1;
                sb.Append(sql, i, end - i + 1);
                i = end;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                int end = sql.IndexOf('\n', i);
                if (end < 0) end = sql.Length - 1;
                sb.Append(sql, i, end - i + 1);
                i = end;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                int end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? sql.Length - 1 : end + 1;
                sb.Append(sql, i, end - i + 1);
                i = end;
            }
            else if (c == '?')
            {
                if (i + 1 < sql.Length && char.IsAsciiDigit(sql[i + 1]))
                {
                    // ?NNN: explicit, keep; later bare ? continue after the largest index (SQLite's rule)
                    int j = i + 1;
                    while (j < sql.Length && char.IsAsciiDigit(sql[j])) j++;
                    if (int.TryParse(sql.AsSpan(i + 1, j - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int k)) n = Math.Max(n, k);
                    sb.Append(sql, i, j - i);
                    i = j - 1;
                }
                else sb.Append('?').Append((++n).ToString(CultureInfo.InvariantCulture));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    public static bool IsInsert(string sql)
    {
        var s = sql.AsSpan().TrimStart();
        return s.StartsWith("insert", StringComparison.OrdinalIgnoreCase) || s.StartsWith("replace", StringComparison.OrdinalIgnoreCase);
    }
}
