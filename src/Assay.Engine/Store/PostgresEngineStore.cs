using System.Data;
using Npgsql;

namespace Assay.Engine.Store;

/// <summary>
/// PostgreSQL backend: several engines may share one database. Row locks (FOR UPDATE on the
/// workflow row, SKIP LOCKED for claims) keep them from stepping on each other; deadlocks and
/// serialisation failures are retried. Wake-ups travel between instances with LISTEN/NOTIFY.
/// </summary>
internal sealed class PostgresEngineStore : SqlEngineStore
{
    const string Channel = "assay_work";
    readonly NpgsqlDataSource _dataSource;
    readonly string _connectionString;

    public override string BackendName => "postgres";

    public PostgresEngineStore(string url, TimeProvider time, ILogger logger) : base(new PostgresDialect(), time, logger)
    {
        // Auto-prepare: the engine runs the same few statements over and over.
        _connectionString = new NpgsqlConnectionStringBuilder(BackendUrl.ToNpgsqlConnectionString(url))
        {
            MaxAutoPrepare = 64,
            AutoPrepareMinUsages = 2,
        }.ConnectionString;
        _dataSource = NpgsqlDataSource.Create(_connectionString);
        Commits = new GroupCommit([.. Enumerable.Range(0, Lanes).Select(_ => new WriterLane(this))], MaxBatch, MaxBatchTime);
    }

    /// <summary>Group commit (<see cref="GroupCommit"/>) on a few kept connections: each commit waits for a WAL flush
    /// (fsync), and one flush now serves a batch of operations instead of one.</summary>
    internal override GroupCommit Commits { get; }

    /// <summary>Batches running at once, each on its own connection: a batch waiting for its WAL flush does not hold the next
    /// one back, and PostgreSQL flushes concurrent commits together too. Measured with bench/engine (docs/benchmarks.md):
    /// 2 lanes flush least often, 8 wait least; 4 is between.</summary>
    const int Lanes = 4;
    const int MaxBatch = 32;

    /// <summary>A batch stops taking operations after this long: its row locks (claims, workflow rows, rate-limit buckets)
    /// keep other engines on the database waiting until it commits.</summary>
    static readonly TimeSpan MaxBatchTime = TimeSpan.FromMilliseconds(10);

    /// <summary>One kept connection of the group-commit writer; reopened after a failure.</summary>
    sealed class WriterLane(PostgresEngineStore store) : IWriteLane
    {
        NpgsqlConnection? _connection;
        NpgsqlTransaction? _transaction;

        public async Task BeginAsync()
        {
            _connection ??= await store._dataSource.OpenConnectionAsync();
            _transaction = await _connection.BeginTransactionAsync(IsolationLevel.ReadCommitted); // sent with the first statement
        }

        public Tx NewTx() => new(_connection!, _transaction, store.D, store.Now());
        public Task SavepointAsync(bool releasePrevious) => Exec(releasePrevious ? "RELEASE SAVEPOINT op; SAVEPOINT op" : "SAVEPOINT op");
        public Task RollbackToSavepointAsync() => Exec("ROLLBACK TO SAVEPOINT op");

        public async Task CommitAsync()
        {
            await _transaction!.CommitAsync();
            await Finish();
        }

        public async Task RollbackAsync()
        {
            await _transaction!.RollbackAsync();
            await Finish();
        }

        // Two transactions locked rows in opposite order (e.g. a child finishing while its parent is cancelled), or a
        // serialisation conflict: Postgres aborts one; it runs again in the next batch, after this one's locks are gone.
        public bool IsRetryable(Exception e) =>
            e is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure };

        public void Abandon()
        {
            // The connection may be broken or mid-transaction: close it (the pool discards or resets it) and open another.
            _transaction = null;
            try { _connection?.Dispose(); } catch (Exception) { /* already broken */ }
            _connection = null;
        }

        async Task Finish()
        {
            await _transaction!.DisposeAsync();
            _transaction = null;
        }

        async Task Exec(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, _connection, _transaction);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    protected override async Task<T> InReadAsync<T>(Func<Tx, Task<T>> body)
    {
        await using var conn = await _dataSource.OpenConnectionAsync();
        return await body(new Tx(conn, null, D, Now()));
    }

    protected override Task LockMigrationsAsync(Tx tx) =>
        tx.ExecAsync("SELECT pg_advisory_xact_lock(727274101)"); // engines starting together migrate one at a time

    protected override async Task BeforeCommitAsync(Tx tx)
    {
        // Delivered to the other instances only if the transaction commits, in one round trip.
        // Activity deadlines stay local: every instance's timeout loop re-checks on its own; so do rate-limit turns (a
        // poller refused a token on another instance schedules its own).
        var wakes = tx.Wakes.Where(w => w.Kind is not (WakeKind.ActivityTimeout or WakeKind.ActivityThrottled)).ToList();
        if (wakes.Count == 0) return;
        var sql = new System.Text.StringBuilder("SELECT ");
        var ps = new (string, object?)[wakes.Count];
        for (var i = 0; i < wakes.Count; i++)
        {
            if (i > 0) sql.Append(", ");
            sql.Append($"pg_notify('{Channel}', @n{i})");
            ps[i] = ($"@n{i}", $"{(int)wakes[i].Kind}|{wakes[i].At.ToString("R", CultureInfo.InvariantCulture)}|{wakes[i].Queue}");
        }
        await tx.ExecAsync(sql.ToString(), ps);
    }

    public override async Task ListenForRemoteWorkAsync(Action listening, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(_connectionString);
                await conn.OpenAsync(ct);
                conn.Notification += (_, e) => Relay(e.Payload);
                await using (var cmd = new NpgsqlCommand($"LISTEN {Channel}", conn))
                    await cmd.ExecuteNonQueryAsync(ct);
                listening();
                while (!ct.IsCancellationRequested)
                    await conn.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Pollers also re-check periodically, so a lost listener only costs latency until it reconnects.
                Log.LogWarning("Postgres notification listener failed ({Message}); reconnecting", e.Message);
                // Real time, like any network retry: the engine's TimeProvider governs semantics, not reconnects.
                try { await Task.Delay(1000, ct); } catch (OperationCanceledException) { return; }
            }
        }
    }

    void Relay(string payload)
    {
        var parts = payload.Split('|', 3);
        if (parts.Length != 3 || !int.TryParse(parts[0], out var kind) ||
            !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var at)) return;
        Publish([new Wake((WakeKind)kind, parts[2], at)]);
    }

    public override async ValueTask DisposeAsync()
    {
        await Commits.StopAsync(); // let running batches finish; their connections go back with the data source
        await _dataSource.DisposeAsync();
    }
}
