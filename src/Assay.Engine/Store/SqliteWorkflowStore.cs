using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Assay.Engine.Store;

/// <summary>
/// SQLite backend (WAL). SQLite allows one writer at a time, so writes are serialised in-process
/// on one long-lived connection (no busy-waiting on the database lock); reads use pooled
/// connections and run beside the writer thanks to WAL. Only one engine process may use a file:
/// an OS lock on <c>&lt;db&gt;.lock</c> enforces that and is released even if the process dies.
/// </summary>
internal sealed class SqliteWorkflowStore : SqlWorkflowStore
{
    readonly string _connectionString;
    readonly string? _path;
    readonly SqliteConnection _writer;
    readonly SemaphoreSlim _writeGate = new(1, 1);
    readonly bool _readsOnWriter;
    FileStream? _instanceLock;

    public override string BackendName => _path is null ? "sqlite (memory)" : "sqlite";
    public string? DatabasePath => _path;

    public SqliteWorkflowStore(string pathOrMemory, string synchronous, ILogger logger) : base(new SqliteDialect(), logger)
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
        Pragma(_writer, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;");
    }

    static void Pragma(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    protected override async Task<T> InWriteTransactionAsync<T>(Func<Tx, Task<T>> body)
    {
        await _writeGate.WaitAsync();
        try
        {
            using var transaction = _writer.BeginTransaction(deferred: false); // BEGIN IMMEDIATE
            var result = await body(new Tx(_writer, transaction, D, Core.Clock.Now()));
            transaction.Commit();
            return result;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    protected override async Task<T> InReadAsync<T>(Func<Tx, Task<T>> body)
    {
        if (_readsOnWriter)
        {
            await _writeGate.WaitAsync();
            try { return await body(new Tx(_writer, null, D, Core.Clock.Now())); }
            finally { _writeGate.Release(); }
        }
        await using var conn = new SqliteConnection(_connectionString);
        conn.Open();
        return await body(new Tx(conn, null, D, Core.Clock.Now()));
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

    public override ValueTask DisposeAsync()
    {
        _instanceLock?.Dispose();
        _writer.Dispose();
        _writeGate.Dispose();
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
