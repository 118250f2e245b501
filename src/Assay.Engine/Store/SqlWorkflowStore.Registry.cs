using Assay.Engine.Core;

namespace Assay.Engine.Store;

// Workers, namespaces, queue statistics, schedules, and the single-instance marker.
internal abstract partial class SqlWorkflowStore
{
    public Task<string> RegisterWorkerAsync(WorkerRegistration r) => WriteAsync(async tx =>
    {
        await RequireNamespaceAsync(tx, r.Namespace);
        var id = "w-" + Guid.NewGuid().ToString("N")[..16];
        await tx.ExecAsync(
            """
            INSERT INTO workflow_workers (id, namespace, identity, task_queue, workflows, activities, max_concurrent_workflows,
                max_concurrent_activities, active_tasks, last_heartbeat, registered_at)
            VALUES (@id, @ns, @identity, @queue, @wfs, @acts, @mcw, @mca, 0, @now, @now)
            """,
            ("@id", id), ("@ns", r.Namespace), ("@identity", r.Identity), ("@queue", r.Queue), ("@wfs", r.Workflows),
            ("@acts", r.Activities), ("@mcw", r.MaxConcurrentWorkflows), ("@mca", r.MaxConcurrentActivities), ("@now", tx.Now));
        return id;
    });

    public Task HeartbeatWorkerAsync(string workerId) => WriteAsync(async tx =>
    {
        if (await tx.ExecAsync("UPDATE workflow_workers SET last_heartbeat = @now WHERE id = @id", ("@now", tx.Now), ("@id", workerId)) == 0)
            throw EngineException.NotFound($"worker {workerId} (register again)");
    });

    public Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(string ns) => InReadAsync<IReadOnlyList<WorkerRecord>>(async tx =>
    {
        await RequireNamespaceAsync(tx, ns);
        return await tx.QueryAsync(
            """
            SELECT id, namespace, identity, task_queue, workflows, activities, max_concurrent_workflows, max_concurrent_activities,
                active_tasks, last_heartbeat, registered_at
            FROM workflow_workers WHERE namespace = @ns ORDER BY registered_at, id
            """,
            x => new WorkerRecord
            {
                Id = x.Str(0), Namespace = x.Str(1), Identity = x.Str(2), TaskQueue = x.Str(3), Workflows = x.StrN(4),
                Activities = x.StrN(5), MaxConcurrentWorkflows = x.Long(6), MaxConcurrentActivities = x.Long(7),
                ActiveTasks = x.Long(8), LastHeartbeat = x.Dbl(9), RegisteredAt = x.Dbl(10),
            }, ("@ns", ns));
    });

    public Task<int> RemoveDeadWorkersAsync(double cutoff) => WriteAsync(tx =>
        tx.ExecAsync("DELETE FROM workflow_workers WHERE last_heartbeat < @cutoff", ("@cutoff", cutoff)));

    public Task CreateNamespaceAsync(string name) => WriteAsync(async tx =>
    {
        if (await tx.ExecAsync("INSERT INTO namespaces (name, created_at) VALUES (@name, @now) ON CONFLICT (name) DO NOTHING",
                ("@name", name), ("@now", tx.Now)) == 0)
            throw EngineException.Conflict($"namespace {name} already exists");
    });

    public Task<IReadOnlyList<NamespaceRecord>> ListNamespacesAsync() => InReadAsync<IReadOnlyList<NamespaceRecord>>(async tx =>
        await tx.QueryAsync("SELECT name, created_at, retention_secs FROM namespaces ORDER BY name",
            x => new NamespaceRecord { Name = x.Str(0), CreatedAt = x.Dbl(1), RetentionSecs = x.DblN(2) }));

    public Task SetNamespaceRetentionAsync(string name, double? retentionSecs) => WriteAsync(async tx =>
    {
        if (await tx.ExecAsync("UPDATE namespaces SET retention_secs = @r WHERE name = @ns", ("@r", retentionSecs), ("@ns", name)) == 0)
            throw EngineException.NotFound($"namespace {name}");
    });

    public Task<IReadOnlyList<(string Id, double CompletedAt)>> RetentionCandidatesAsync(int limit, double afterCompletedAt, string afterId) =>
        InReadAsync<IReadOnlyList<(string Id, double CompletedAt)>>(async tx =>
        await tx.QueryAsync(
            """
            SELECT w.id, w.completed_at FROM workflows w JOIN namespaces n ON n.name = w.namespace
            WHERE n.retention_secs IS NOT NULL AND w.completed_at IS NOT NULL AND w.completed_at < @now - n.retention_secs
                AND w.status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT')
                AND (w.completed_at > @after_at OR (w.completed_at = @after_at AND w.id > @after_id))
            ORDER BY w.completed_at, w.id LIMIT @limit
            """, x => (x.Str(0), x.Dbl(1)), ("@now", tx.Now), ("@limit", (long)limit), ("@after_at", afterCompletedAt), ("@after_id", afterId)));

    public Task<IReadOnlyList<ActivityRecord>> GetActivitiesAsync(string workflowId) => InReadAsync<IReadOnlyList<ActivityRecord>>(async tx =>
        await tx.QueryAsync($"SELECT {ActivityColumns} FROM workflow_activities WHERE workflow_id = @id ORDER BY seq", ReadActivity, ("@id", workflowId)));

    /// <summary>Deletes a finished workflow and everything it owns, in one transaction. False when it is not (or no longer) terminal.</summary>
    public Task<bool> PurgeWorkflowAsync(string workflowId) => WriteAsync(async tx =>
    {
        var status = await tx.ScalarAsync($"SELECT status FROM workflows WHERE id = @id{D.ForUpdate}", ("@id", workflowId)) as string;
        if (status is null || !WorkflowStatus.IsTerminal(status)) return false;
        foreach (var table in new[] { "workflow_events", "workflow_activities", "workflow_timers", "workflow_signals", "workflow_side_effects", "workflow_snapshots" })
            await tx.ExecAsync($"DELETE FROM {table} WHERE workflow_id = @id", ("@id", workflowId));
        await tx.ExecAsync("DELETE FROM workflows WHERE id = @id", ("@id", workflowId));
        return true;
    });

    public Task<NamespaceStats> GetNamespaceStatsAsync(string name) => InReadAsync(async tx =>
    {
        await RequireNamespaceAsync(tx, name);
        var counts = await tx.QuerySingleAsync(
            """
            SELECT COUNT(*),
                COALESCE(SUM(CASE WHEN status = 'RUNNING' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'PENDING' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN status = 'CANCELLED' THEN 1 ELSE 0 END), 0),
                (SELECT COUNT(*) FROM workflow_schedules WHERE namespace = @ns),
                (SELECT COUNT(*) FROM workflow_workers WHERE namespace = @ns)
            FROM workflows WHERE namespace = @ns
            """,
            x => new NamespaceStats
            {
                Namespace = name, TotalWorkflows = x.Long(0), Running = x.Long(1), Pending = x.Long(2), Completed = x.Long(3),
                Failed = x.Long(4), Cancelled = x.Long(5), Schedules = x.Long(6), Workers = x.Long(7),
            }, ("@ns", name));
        return counts!;
    });

    public Task DeleteNamespaceAsync(string name) => WriteAsync(async tx =>
    {
        if (name == "main") throw EngineException.Conflict("the 'main' namespace cannot be deleted");
        await RequireNamespaceAsync(tx, name);
        // Deleting a namespace that still holds data would orphan it; the caller must clean up first.
        var used = await tx.ScalarAsync(
            """
            SELECT 1 WHERE EXISTS (SELECT 1 FROM workflows WHERE namespace = @ns)
                OR EXISTS (SELECT 1 FROM workflow_schedules WHERE namespace = @ns)
                OR EXISTS (SELECT 1 FROM workflow_workers WHERE namespace = @ns)
            """, ("@ns", name));
        if (used is not null) throw EngineException.Conflict($"namespace {name} still has workflows, schedules or workers");
        await tx.ExecAsync("DELETE FROM namespaces WHERE name = @ns", ("@ns", name));
    });

    public Task<IReadOnlyList<QueueStats>> GetQueueStatsAsync(string ns) => InReadAsync<IReadOnlyList<QueueStats>>(async tx =>
    {
        await RequireNamespaceAsync(tx, ns);
        var stats = new SortedDictionary<string, (long Pending, long Running, long Workers, long Tasks)>(StringComparer.Ordinal);
        void Merge(string q, Func<(long, long, long, long), (long, long, long, long)> f) =>
            stats[q] = f(stats.TryGetValue(q, out var s) ? s : default);

        foreach (var (q, pending, running) in await tx.QueryAsync(
                     """
                     SELECT a.task_queue,
                         COALESCE(SUM(CASE WHEN a.status = 'PENDING' THEN 1 ELSE 0 END), 0),
                         COALESCE(SUM(CASE WHEN a.status = 'RUNNING' THEN 1 ELSE 0 END), 0)
                     FROM workflow_activities a JOIN workflows w ON w.id = a.workflow_id
                     WHERE w.namespace = @ns AND a.status IN ('PENDING', 'RUNNING')
                     GROUP BY a.task_queue
                     """, x => (x.Str(0), x.Long(1), x.Long(2)), ("@ns", ns)))
            Merge(q, s => (pending, running, s.Item3, s.Item4));
        foreach (var (q, n) in await tx.QueryAsync(
                     "SELECT task_queue, COUNT(*) FROM workflow_workers WHERE namespace = @ns GROUP BY task_queue",
                     x => (x.Str(0), x.Long(1)), ("@ns", ns)))
            Merge(q, s => (s.Item1, s.Item2, n, s.Item4));
        foreach (var (q, n) in await tx.QueryAsync(
                     """
                     SELECT task_queue, COUNT(*) FROM workflows
                     WHERE namespace = @ns AND needs_dispatch = 1 AND lease_owner IS NULL AND status IN ('PENDING', 'RUNNING')
                     GROUP BY task_queue
                     """, x => (x.Str(0), x.Long(1)), ("@ns", ns)))
            Merge(q, s => (s.Item1, s.Item2, s.Item3, n));

        return stats.Select(kv => new QueueStats
        {
            Queue = kv.Key, PendingActivities = kv.Value.Pending, RunningActivities = kv.Value.Running,
            Workers = kv.Value.Workers, PendingWorkflowTasks = kv.Value.Tasks,
        }).ToList();
    });

    // ── schedules ───────────────────────────────────────────────────────────────────────────

    const string ScheduleColumns =
        "name, namespace, workflow_type, cron_expr, timezone, input, task_queue, overlap_policy, paused, last_run_at, " +
        "next_run_at, last_workflow_id, created_at, catchup_window_secs, buffered";

    static ScheduleRecord ReadSchedule(System.Data.Common.DbDataReader x) => new()
    {
        Name = x.Str(0), Namespace = x.Str(1), WorkflowType = x.Str(2), CronExpr = x.Str(3), Timezone = x.Str(4),
        Input = x.StrN(5), TaskQueue = x.Str(6), OverlapPolicy = x.Str(7), Paused = x.Bool(8), LastRunAt = x.DblN(9),
        NextRunAt = x.DblN(10), LastWorkflowId = x.StrN(11), CreatedAt = x.Dbl(12), CatchupWindowSecs = x.Dbl(13),
        Buffered = x.StrN(14), BufferedRuns = CountBuffered(x.StrN(14)),
    };

    public Task<ScheduleRecord> CreateScheduleAsync(ScheduleCreate c, double? nextRunAt) => WriteAsync(async tx =>
    {
        await RequireNamespaceAsync(tx, c.Namespace);
        var inserted = await tx.ExecAsync(
            """
            INSERT INTO workflow_schedules (name, namespace, workflow_type, cron_expr, timezone, input, task_queue, overlap_policy,
                paused, next_run_at, created_at, catchup_window_secs)
            VALUES (@name, @ns, @type, @cron, @tz, @input, @queue, @overlap, 0, @next, @now, @catchup)
            ON CONFLICT (namespace, name) DO NOTHING
            """,
            ("@name", c.Name), ("@ns", c.Namespace), ("@type", c.WorkflowType), ("@cron", c.CronExpr), ("@tz", c.Timezone),
            ("@input", c.Input), ("@queue", c.TaskQueue), ("@overlap", c.OverlapPolicy), ("@next", nextRunAt), ("@now", tx.Now),
            ("@catchup", c.CatchupWindowSecs));
        if (inserted == 0) throw EngineException.Conflict($"schedule {c.Name} already exists in namespace {c.Namespace}");
        return (await SelectScheduleAsync(tx, c.Namespace, c.Name, forUpdate: false))!;
    });

    Task<ScheduleRecord?> SelectScheduleAsync(Tx tx, string ns, string name, bool forUpdate) =>
        tx.QuerySingleAsync($"SELECT {ScheduleColumns} FROM workflow_schedules WHERE namespace = @ns AND name = @name{(forUpdate ? D.ForUpdate : "")}",
            ReadSchedule, ("@ns", ns), ("@name", name));

    public Task<ScheduleRecord?> GetScheduleAsync(string ns, string name) =>
        InReadAsync(tx => SelectScheduleAsync(tx, ns, name, forUpdate: false));

    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(string ns) => InReadAsync<IReadOnlyList<ScheduleRecord>>(async tx =>
    {
        await RequireNamespaceAsync(tx, ns);
        return await tx.QueryAsync($"SELECT {ScheduleColumns} FROM workflow_schedules WHERE namespace = @ns ORDER BY name",
            ReadSchedule, ("@ns", ns));
    });

    public Task<ScheduleRecord> UpdateScheduleAsync(string ns, string name,
        Func<ScheduleRecord, (ScheduleRecord Updated, double? NextRunAt)> change) => WriteAsync(async tx =>
    {
        var current = await SelectScheduleAsync(tx, ns, name, forUpdate: true)
                      ?? throw EngineException.NotFound($"schedule {name}");
        var (s, next) = change(current);
        await tx.ExecAsync(
            """
            UPDATE workflow_schedules SET cron_expr = @cron, timezone = @tz, input = @input, task_queue = @queue,
                overlap_policy = @overlap, paused = @paused, next_run_at = @next, catchup_window_secs = @catchup
            WHERE namespace = @ns AND name = @name
            """,
            ("@cron", s.CronExpr), ("@tz", s.Timezone), ("@input", s.Input), ("@queue", s.TaskQueue), ("@overlap", s.OverlapPolicy),
            ("@paused", s.Paused ? 1L : 0L), ("@next", next), ("@catchup", s.CatchupWindowSecs), ("@ns", ns), ("@name", name));
        return (await SelectScheduleAsync(tx, ns, name, forUpdate: false))!;
    });

    public Task DeleteScheduleAsync(string ns, string name) => WriteAsync(async tx =>
    {
        if (await tx.ExecAsync("DELETE FROM workflow_schedules WHERE namespace = @ns AND name = @name", ("@ns", ns), ("@name", name)) == 0)
            throw EngineException.NotFound($"schedule {name}");
    });

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
