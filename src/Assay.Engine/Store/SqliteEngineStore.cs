using Microsoft.Data.Sqlite;

namespace Assay.Engine.Store;

/// <summary>
/// SQLite backend (WAL). SQLite allows one writer at a time, so writes are serialised in-process
/// on one long-lived connection (no busy-waiting on the database lock); reads use pooled
/// connections and run beside the writer thanks to WAL. Only one engine process may use a file:
/// an OS lock on <c>&lt;db&gt;.lock</c> enforces that and is released even if the process dies.
/// </summary>
internal sealed class SqliteEngineStore : SqlEngineStore
{
    readonly string _connectionString;
    readonly string? _path;
    readonly SqliteConnection _writer;
    readonly bool _readsOnWriter;
    readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    FileStream? _instanceLock;

    /// <summary>Writer-connection statements, prepared once (only used by the lane's leader, one at a time).</summary>
    System.Data.Common.DbCommand Prepared(string sql)
    {
        if (!_prepared.TryGetValue(sql, out var cmd))
        {
            cmd = _writer.CreateCommand();
            cmd.CommandText = sql;
            _prepared[sql] = cmd;
        }
        return cmd;
    }

    public override string BackendName => _path is null ? "sqlite (memory)" : "sqlite";
    public string? DatabasePath => _path;

    public SqliteEngineStore(string pathOrMemory, string synchronous, TimeProvider time, ILogger logger) : base(new SqliteDialect(), time, logger)
    {
        var memory = pathOrMemory == ":memory:";
        _path = memory ? null : pathOrMemory;
        _readsOnWriter = memory; // a private in-memory database exists on its one connection only
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = memory ? ":memory:" : pathOrMemory,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = !memory,
            DefaultTimeout = 30,
        }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        // WAL: readers never block the writer. synchronous=NORMAL in WAL mode survives a process
        // crash (SIGKILL) with every committed transaction; FULL also survives power loss.
        Pragma(_writer, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; {PerformancePragmas} PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;");
        // One lane: SQLite has one writer. No time bound on a batch: no other engine waits on its locks.
        Commits = new GroupCommit([new WriterLane(this)], MaxBatch, TimeSpan.MaxValue);
    }

    /// <summary>Measured on the engine's write mix: a large page cache and memory-mapped reads halve the cost of a
    /// commit; checkpointing less often (every ~40 MB of WAL) coalesces repeated writes of the same index pages.</summary>
    const string PerformancePragmas = SqliteTuning.Pragmas;

    static void Pragma(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Group commit (<see cref="GroupCommit"/>) on the one writer connection: one commit — and one WAL write —
    /// serves every operation that arrived while the previous batch was running.</summary>
    internal override GroupCommit Commits { get; }

    const int MaxBatch = 64;

    /// <summary>The single writer connection as the group-commit lane; prepared statements are reused across batches.</summary>
    sealed class WriterLane(SqliteEngineStore store) : IWriteLane
    {
        SqliteTransaction? _transaction;

        public Task BeginAsync()
        {
            _transaction = store._writer.BeginTransaction(deferred: false); // BEGIN IMMEDIATE
            return Task.CompletedTask;
        }

        public Tx NewTx() => new(store._writer, _transaction, store.D, store.Now(), store.Prepared);
        public Task SavepointAsync(bool releasePrevious) => Exec(releasePrevious ? "RELEASE op; SAVEPOINT op" : "SAVEPOINT op");
        public Task RollbackToSavepointAsync() => Exec("ROLLBACK TO op");

        public Task CommitAsync()
        {
            _transaction!.Commit();
            return Finish();
        }

        public Task RollbackAsync()
        {
            _transaction!.Rollback();
            return Finish();
        }

        public bool IsRetryable(Exception e) => false; // the only writer: nobody to conflict with

        public void Abandon()
        {
            try { _transaction?.Dispose(); } // rolls back what is left of it
            catch (SqliteException) { /* the connection already rolled it back */ }
            _transaction = null;
        }

        Task Finish()
        {
            _transaction!.Dispose();
            _transaction = null;
            return Task.CompletedTask;
        }

        Task Exec(string sql)
        {
            var cmd = (SqliteCommand)store.Prepared(sql);
            cmd.Parameters.Clear();
            cmd.Transaction = _transaction;
            cmd.ExecuteNonQuery();
            return Task.CompletedTask;
        }
    }

    protected override async Task<T> InReadAsync<T>(Func<Tx, Task<T>> body)
    {
        if (_readsOnWriter)
            return await Commits.ExclusiveAsync(() => body(new Tx(_writer, null, D, Now(), Prepared)));
        await using var conn = new SqliteConnection(_connectionString);
        conn.Open();
        return await body(new Tx(conn, null, D, Now()));
    }

    public override async Task AcquireInstanceAsync(string instanceId)
    {
        if (_path is not null && _instanceLock is null)
        {
            try
            {
                // FileShare.None takes an exclusive advisory lock (flock) that the kernel drops when the process exits.
                _instanceLock = new FileStream(_path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                throw new InvalidOperationException(
                    $"another assay engine is already serving {_path}; SQLite supports one engine per database file (use PostgreSQL to run several)");
            }
        }
        await WriteInstanceRowAsync(instanceId);
    }

    public override async Task ReleaseInstanceAsync(string instanceId)
    {
        await DeleteInstanceRowAsync(instanceId);
        _instanceLock?.Dispose();
        _instanceLock = null;
    }

    public override async ValueTask DisposeAsync()
    {
        await Commits.StopAsync(); // let a running batch finish
        foreach (var cmd in _prepared.Values) cmd.Dispose();
        _instanceLock?.Dispose();
        _writer.Dispose();
        SqliteConnection.ClearAllPools();
    }
}

/// <summary>SQLite settings the engine runs with (public so benchmarks can measure raw SQLite the same way).</summary>
public static class SqliteTuning
{
    public const string Pragmas =
        "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864; PRAGMA temp_store=MEMORY;";
}
