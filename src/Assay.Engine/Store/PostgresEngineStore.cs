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
    }

    protected override async Task<T> InWriteTransactionAsync<T>(Func<Tx, Task<T>> body)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = await _dataSource.OpenConnectionAsync();
                await using var transaction = await conn.BeginTransactionAsync(IsolationLevel.ReadCommitted);
                var result = await body(new Tx(conn, transaction, D, Now()));
                await transaction.CommitAsync();
                return result;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure
                                                  && attempt < 8)
            {
                // Two transactions locked the same workflows in opposite order (e.g. a child finishing
                // while its parent is cancelled): one is aborted by Postgres; run it again. A short real pause (not the
                // engine's TimeProvider): it spaces out database retries and means nothing to the engine's semantics.
                await Task.Delay(Random.Shared.Next(1, 10 * attempt));
            }
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

    public override async ValueTask DisposeAsync() => await _dataSource.DisposeAsync();
}
