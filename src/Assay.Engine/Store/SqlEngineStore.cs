namespace Assay.Engine.Store;

/// <summary>
/// The engine's durable semantics, written once against ADO.NET. The SQLite and PostgreSQL
/// subclasses only supply connections, transaction boundaries and the <see cref="SqlDialect"/>.
/// One partial file per role of <see cref="IEngineStore"/> (Workflows, Events, Dispatch, Activities, Timers, Schedules,
/// Registry, ApiKeys, Leases, Retention); this file holds the transaction plumbing and the schema, and Transitions the
/// workflow-row changes the roles share. Every timestamp comes from the injected <see cref="TimeProvider"/>.
/// </summary>
internal abstract partial class SqlEngineStore(SqlDialect dialect, TimeProvider time, ILogger logger) : IEngineStore
{
    protected readonly SqlDialect D = dialect;
    protected readonly ILogger Log = logger;
    protected readonly TimeProvider Time = time;

    public abstract string BackendName { get; }
    public IWorkListener? Listener { get; set; }
    public Action<double>? WriteObserved { get; set; }

    /// <summary>The store's group-commit writer (<see cref="GroupCommit"/>) over its write connections.</summary>
    internal abstract GroupCommit Commits { get; }

    /// <summary>Runs <paramref name="body"/> in a write transaction — shared with operations arriving at the same time, each
    /// in its own savepoint — and returns once that transaction has committed; lock conflicts are retried.</summary>
    protected Task<T> InWriteTransactionAsync<T>(Func<Tx, Task<T>> body) => Commits.RunAsync(body);

    /// <summary>Runs <paramref name="body"/> on a connection for reading (no transaction needed).</summary>
    protected abstract Task<T> InReadAsync<T>(Func<Tx, Task<T>> body);

    /// <summary>Last chance to act inside the transaction (Postgres publishes wake-ups to other instances).</summary>
    protected virtual Task BeforeCommitAsync(Tx tx) => Task.CompletedTask;

    /// <summary>The time a transaction starting now works with (<see cref="Tx.Now"/>).</summary>
    protected double Now() => Time.EpochSeconds();

    public abstract ValueTask DisposeAsync();

    /// <summary>Relays wake-ups published by other engine instances on the same database (Postgres); returns
    /// at once where there can be no other instance.</summary>
    public virtual Task ListenForRemoteWorkAsync(Action listening, CancellationToken ct)
    {
        listening(); // a single-instance store has nobody else to hear
        return Task.CompletedTask;
    }

    // ── transaction plumbing ────────────────────────────────────────────────────────────────

    protected async Task<T> WriteAsync<T>(Func<Tx, Task<T>> body)
    {
        HashSet<Wake>? wakes = null;
        Tx? done = null;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await InWriteTransactionAsync(async tx =>
        {
            var r = await body(tx);
            await FlushRowsAsync(tx);
            await BeforeCommitAsync(tx);
            wakes = tx.Wakes;
            done = tx;
            return r;
        });
        WriteObserved?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (wakes is { Count: > 0 }) Publish(wakes);
        if (done is not null) AnnounceCommitted(done);
        return result;
    }

    protected Task WriteAsync(Func<Tx, Task> body) => WriteAsync<bool>(async tx => { await body(tx); return true; });

    protected void Publish(IEnumerable<Wake> wakes)
    {
        var l = Listener;
        if (l is null) return;
        foreach (var w in wakes)
        {
            switch (w.Kind)
            {
                case WakeKind.WorkflowTask: l.WorkflowTaskReady(w.Queue); break;
                case WakeKind.Activity: l.ActivityReady(w.Queue, w.At); break;
                case WakeKind.Timer: l.TimerScheduled(w.At); break;
                case WakeKind.ActivityTimeout: l.ActivityDeadline(w.At); break;
                case WakeKind.WorkflowTaskReleased: l.WorkflowTaskReleased(w.Queue); break;
                case WakeKind.ActivityReleased: l.ActivityReleased(w.Queue); break;
                case WakeKind.ActivityThrottled: l.ActivityThrottled(w.Queue, w.At); break;
            }
        }
    }

    /// <summary>Finds due rows, then handles each in its own transaction (so one bad row cannot block the rest,
    /// and lock order stays workflow-first). Used by the timer and activity-timeout loops.</summary>
    async Task<int> ProcessDueAsync(string findSql, Func<Tx, long, Task<bool>> handle)
    {
        var ids = await InReadAsync(tx => tx.QueryAsync(findSql, x => x.Long("id"), ("@now", tx.Now)));
        var done = 0;
        foreach (var id in ids)
        {
            if (IsPoisoned(findSql, id)) continue;
            try
            {
                if (await WriteAsync(tx => handle(tx, id))) done++;
            }
            catch (EngineException)
            {
                // Raced with a worker or an operator (row gone or finished meanwhile): nothing to do.
            }
            catch (Exception e) when (!Api.Routes.StoreUnavailable(e))
            {
                // One row the handler cannot process must not hold back every row due after it: log it, go on,
                // and leave it alone for a while (it is first in line every time, so it would fail every second).
                Log.LogError(e, "Skipping due row {Id} for {Seconds} s: it could not be processed", id, PoisonedRowPause);
                _poisoned[(findSql, id)] = Now() + PoisonedRowPause;
            }
        }
        return done;
    }

    const double PoisonedRowPause = 60;
    readonly System.Collections.Concurrent.ConcurrentDictionary<(string Sql, long Id), double> _poisoned = new();

    bool IsPoisoned(string findSql, long id)
    {
        if (!_poisoned.TryGetValue((findSql, id), out var until)) return false;
        if (until > Now()) return true;
        _poisoned.TryRemove((findSql, id), out _);
        return false;
    }

    // ── schema ──────────────────────────────────────────────────────────────────────────────

    public async Task MigrateAsync(CancellationToken ct = default)
    {
        await InWriteTransactionAsync(async tx =>
        {
            await LockMigrationsAsync(tx);
            await tx.ExecAsync($"CREATE TABLE IF NOT EXISTS schema_migrations (version {D.IntType} PRIMARY KEY, applied_at {D.RealType} NOT NULL)");
            var current = Convert.ToInt32(await tx.ScalarAsync("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0);
            foreach (var (version, statements) in Migrations.All)
            {
                if (version <= current) continue;
                foreach (var sql in statements)
                    await tx.ExecAsync(D.ExpandTypes(sql), ("@now", tx.Now));
                await tx.ExecAsync("INSERT INTO schema_migrations (version, applied_at) VALUES (@v, @now)", ("@v", (long)version), ("@now", tx.Now));
                Log.LogInformation("Applied schema migration {Version}", version);
            }
            return true;
        });
    }

    /// <summary>Serialises concurrent migrators (two engines starting on one Postgres database).</summary>
    protected virtual Task LockMigrationsAsync(Tx tx) => Task.CompletedTask;

    public Task<int> SchemaVersionAsync() => InReadAsync(async tx =>
        Convert.ToInt32(await tx.ScalarAsync("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") ?? 0));

    // ── lease tokens ────────────────────────────────────────────────────────────────────────

    /// <summary>A lease token: 128 random bits, the proof that a report comes from the claimant.</summary>
    protected static string NewToken() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>Constant-time token comparison (a token is a credential for its claim).</summary>
    protected static bool SameToken(string? a, string? b) =>
        a is not null && b is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));
}
