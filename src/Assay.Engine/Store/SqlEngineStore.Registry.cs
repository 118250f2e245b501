namespace Assay.Engine.Store;

// IRegistryStore: workers, namespaces (with their retention setting) and queue statistics.
internal abstract partial class SqlEngineStore
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
        await RecordWorkerTypesAsync(tx, id, r.Queue, "workflow", r.Workflows);
        await RecordWorkerTypesAsync(tx, id, r.Queue, "activity", r.Activities);
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
        return await tx.QueryAsync($"SELECT {RecordMaps.WorkerColumns} FROM workflow_workers WHERE namespace = @ns ORDER BY registered_at, id",
            RecordMaps.Worker, ("@ns", ns));
    });

    public Task<int> RemoveDeadWorkersAsync(double cutoff) => WriteAsync(async tx =>
    {
        // Their types go first: a task only they served shows as served by nobody from now on.
        await tx.ExecAsync("DELETE FROM workflow_worker_types WHERE worker_id IN (SELECT id FROM workflow_workers WHERE last_heartbeat < @cutoff)",
            ("@cutoff", cutoff));
        return await tx.ExecAsync("DELETE FROM workflow_workers WHERE last_heartbeat < @cutoff", ("@cutoff", cutoff));
    });

    public Task CreateNamespaceAsync(string name) => WriteAsync(async tx =>
    {
        if (await tx.ExecAsync("INSERT INTO namespaces (name, created_at) VALUES (@name, @now) ON CONFLICT (name) DO NOTHING",
                ("@name", name), ("@now", tx.Now)) == 0)
            throw EngineException.Conflict($"namespace {name} already exists");
    });

    public Task<IReadOnlyList<NamespaceRecord>> ListNamespacesAsync() => InReadAsync<IReadOnlyList<NamespaceRecord>>(async tx =>
        await tx.QueryAsync($"SELECT {RecordMaps.NamespaceColumns} FROM namespaces ORDER BY name", RecordMaps.Namespace));

    public Task SetNamespaceRetentionAsync(string name, double? retentionSecs) => WriteAsync(async tx =>
    {
        if (await tx.ExecAsync("UPDATE namespaces SET retention_secs = @r WHERE name = @ns", ("@r", retentionSecs), ("@ns", name)) == 0)
            throw EngineException.NotFound($"namespace {name}");
    });

    public Task<NamespaceStats> GetNamespaceStatsAsync(string name) => InReadAsync(async tx =>
    {
        await RequireNamespaceAsync(tx, name);
        var counts = await tx.QuerySingleAsync(
            """
            SELECT COUNT(*) AS total,
                COALESCE(SUM(CASE WHEN status = 'RUNNING' THEN 1 ELSE 0 END), 0) AS running,
                COALESCE(SUM(CASE WHEN status = 'PENDING' THEN 1 ELSE 0 END), 0) AS pending,
                COALESCE(SUM(CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END), 0) AS completed,
                COALESCE(SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END), 0) AS failed,
                COALESCE(SUM(CASE WHEN status = 'CANCELLED' THEN 1 ELSE 0 END), 0) AS cancelled,
                (SELECT COUNT(*) FROM workflow_schedules WHERE namespace = @ns) AS schedules,
                (SELECT COUNT(*) FROM workflow_workers WHERE namespace = @ns) AS workers
            FROM workflows WHERE namespace = @ns
            """,
            x => new NamespaceStats
            {
                Namespace = name, TotalWorkflows = x.Long("total"), Running = x.Long("running"), Pending = x.Long("pending"),
                Completed = x.Long("completed"), Failed = x.Long("failed"), Cancelled = x.Long("cancelled"),
                Schedules = x.Long("schedules"), Workers = x.Long("workers"),
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
                         COALESCE(SUM(CASE WHEN a.status = 'PENDING' THEN 1 ELSE 0 END), 0) AS pending,
                         COALESCE(SUM(CASE WHEN a.status = 'RUNNING' THEN 1 ELSE 0 END), 0) AS running
                     FROM workflow_activities a JOIN workflows w ON w.id = a.workflow_id
                     WHERE w.namespace = @ns AND a.status IN ('PENDING', 'RUNNING')
                     GROUP BY a.task_queue
                     """, x => (x.Str("task_queue"), x.Long("pending"), x.Long("running")), ("@ns", ns)))
            Merge(q, s => (pending, running, s.Item3, s.Item4));
        foreach (var (q, n) in await tx.QueryAsync(
                     "SELECT task_queue, COUNT(*) AS n FROM workflow_workers WHERE namespace = @ns GROUP BY task_queue",
                     x => (x.Str("task_queue"), x.Long("n")), ("@ns", ns)))
            Merge(q, s => (s.Item1, s.Item2, n, s.Item4));
        foreach (var (q, n) in await tx.QueryAsync(
                     """
                     SELECT task_queue, COUNT(*) AS n FROM workflows
                     WHERE namespace = @ns AND needs_dispatch = 1 AND lease_owner IS NULL AND status IN ('PENDING', 'RUNNING')
                     GROUP BY task_queue
                     """, x => (x.Str("task_queue"), x.Long("n")), ("@ns", ns)))
            Merge(q, s => (s.Item1, s.Item2, s.Item3, n));

        var limits = await RateLimitsAsync(tx);
        return stats.Select(kv => new QueueStats
        {
            Queue = kv.Key, PendingActivities = kv.Value.Pending, RunningActivities = kv.Value.Running,
            Workers = kv.Value.Workers, PendingWorkflowTasks = kv.Value.Tasks,
            MaxActivitiesPerSecond = limits.TryGetValue(kv.Key, out var rate) ? rate : null,
        }).ToList();
    });
}
