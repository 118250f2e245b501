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
    readonly SemaphoreSlim _writeGate = new(1, 1);
    readonly bool _readsOnWriter;
    readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    FileStream? _instanceLock;

    /// <summary>Writer-connection statements, prepared once (only used under the write gate).</summary>
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

    /// <summary>
    /// Group commit without a writer thread: an operation joins the queue; whoever finds the writer
    /// free becomes the leader and runs everything queued in one transaction, each operation inside
    /// its own SAVEPOINT (a failing one rolls back alone). One commit — and one WAL write — serves
    /// many operations, an operation that arrives alone runs at once on its own thread, and every
    /// caller learns its result only after the commit.
    /// </summary>
    protected override async Task<T> InWriteTransactionAsync<T>(Func<Tx, Task<T>> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        T result = default!;
        _writes.Enqueue(new WriteItem(
            async tx => result = await body(tx),
            () => done.TrySetResult(result),
            e => done.TrySetException(e)));
        await DrainIfFreeAsync();
        return await done.Task;
    }

    sealed record WriteItem(Func<Tx, Task> Run, Action Committed, Action<Exception> Failed);

    const int MaxBatch = 64;
    readonly System.Collections.Concurrent.ConcurrentQueue<WriteItem> _writes = new();

    /// <summary>Drains the queue while nobody else is writing. Re-checks after releasing the writer, so an
    /// operation queued while the previous leader was finishing is never left behind.</summary>
    async Task DrainIfFreeAsync()
    {
        while (!_writes.IsEmpty && _writeGate.Wait(0))
        {
            try
            {
                while (!_writes.IsEmpty) await RunBatchAsync();
            }
            finally
            {
                _writeGate.Release();
            }
        }
    }

    readonly List<WriteItem> _batch = new(MaxBatch);
    readonly List<WriteItem> _succeeded = new(MaxBatch);

    async Task RunBatchAsync()
    {
        var batch = _batch;
        var succeeded = _succeeded;
        batch.Clear();
        succeeded.Clear();
        while (batch.Count < MaxBatch && _writes.TryDequeue(out var item)) batch.Add(item);
        if (batch.Count == 0) return;
        try
        {
            using var transaction = _writer.BeginTransaction(deferred: false); // BEGIN IMMEDIATE
            if (batch.Count == 1)
            {
                // Alone: no savepoint needed, a failure rolls back the whole (one-operation) transaction.
                try
                {
                    await batch[0].Run(new Tx(_writer, transaction, D, Now(), Prepared));
                    succeeded.Add(batch[0]);
                }
                catch (Exception e)
                {
                    transaction.Rollback();
                    batch[0].Failed(e);
                    return;
                }
            }
            else
            {
                foreach (var item in batch)
                {
                    Exec(transaction, "SAVEPOINT op");
                    try
                    {
                        await item.Run(new Tx(_writer, transaction, D, Now(), Prepared));
                        Exec(transaction, "RELEASE op");
                        succeeded.Add(item);
                    }
                    catch (Exception e)
                    {
                        Exec(transaction, "ROLLBACK TO op");
                        Exec(transaction, "RELEASE op");
                        item.Failed(e);
                    }
                }
            }
            transaction.Commit();
            foreach (var item in succeeded) item.Committed();
        }
        catch (Exception e)
        {
            foreach (var item in succeeded) item.Failed(e); // the commit itself failed: nothing happened
        }
    }

    void Exec(SqliteTransaction transaction, string sql)
    {
        var cmd = (SqliteCommand)Prepared(sql);
        cmd.Parameters.Clear();
        cmd.Transaction = transaction;
        cmd.ExecuteNonQuery();
    }

    protected override async Task<T> InReadAsync<T>(Func<Tx, Task<T>> body)
    {
        if (_readsOnWriter)
        {
            await _writeGate.WaitAsync();
            try { return await body(new Tx(_writer, null, D, Now(), Prepared)); }
            finally
            {
                _writeGate.Release();
                await DrainIfFreeAsync(); // writes queued while this read held the connection
            }
        }
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
        await _writeGate.WaitAsync(); // let a running batch finish
        foreach (var cmd in _prepared.Values) cmd.Dispose();
        _instanceLock?.Dispose();
        _writer.Dispose();
        _writeGate.Dispose();
        SqliteConnection.ClearAllPools();
    }
}

/// <summary>SQLite settings the engine runs with (public so benchmarks can measure raw SQLite the same way).</summary>
public static class SqliteTuning
{
    public const string Pragmas =
        "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=10000; PRAGMA journal_size_limit=67108864; PRAGMA temp_store=MEMORY;";
}
