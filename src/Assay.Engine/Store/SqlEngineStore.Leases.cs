namespace Assay.Engine.Store;

// ILeaseStore: the lease rows that elect one engine for cluster-wide singletons (scheduler, retention), and the
// single-instance marker of backends that allow one engine only (SQLite).
internal abstract partial class SqlEngineStore
{
    /// <summary>Takes or renews the lease <paramref name="name"/> for <paramref name="owner"/>; false while
    /// another owner holds an unexpired lease. One conditional upsert: atomic on both backends.</summary>
    public Task<bool> TryAcquireLeaseAsync(string name, string owner, double ttlSecs) => WriteAsync(async tx =>
        await tx.ExecAsync(
            """
            INSERT INTO engine_leases (name, owner, expires_at) VALUES (@name, @owner, @exp)
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
            WHERE engine_leases.owner = excluded.owner OR engine_leases.expires_at < @now
            """, ("@name", name), ("@owner", owner), ("@exp", tx.Now + ttlSecs), ("@now", tx.Now)) > 0);

    public Task ReleaseLeaseAsync(string name, string owner) => WriteAsync(tx =>
        tx.ExecAsync("DELETE FROM engine_leases WHERE name = @name AND owner = @owner", ("@name", name), ("@owner", owner)));

    // ── instance marker ─────────────────────────────────────────────────────────────────────

    public virtual Task AcquireInstanceAsync(string instanceId) => Task.CompletedTask;
    public virtual Task ReleaseInstanceAsync(string instanceId) => Task.CompletedTask;

    protected Task WriteInstanceRowAsync(string instanceId) => WriteAsync(tx => tx.ExecAsync(
        """
        INSERT INTO engine_lock (id, instance_id, started_at, last_heartbeat) VALUES (1, @i, @now, @now)
        ON CONFLICT (id) DO UPDATE SET instance_id = excluded.instance_id, started_at = excluded.started_at,
            last_heartbeat = excluded.last_heartbeat
        """, ("@i", instanceId), ("@now", tx.Now)));

    protected Task DeleteInstanceRowAsync(string instanceId) =>
        WriteAsync(tx => tx.ExecAsync("DELETE FROM engine_lock WHERE id = 1 AND instance_id = @i", ("@i", instanceId)));
}
