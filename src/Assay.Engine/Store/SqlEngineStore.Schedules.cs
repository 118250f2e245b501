using Assay.Engine.Schedules;

namespace Assay.Engine.Store;

// IScheduleStore: schedule CRUD; firing (leader only, under the "scheduler" lease); trigger and backfill.
internal abstract partial class SqlEngineStore
{
    // ── CRUD ────────────────────────────────────────────────────────────────────────────────

    static ScheduleRecord ReadSchedule(Row x) => RecordMaps.Schedule(x, CountBuffered);

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
        tx.QuerySingleAsync($"SELECT {RecordMaps.ScheduleColumns} FROM workflow_schedules WHERE namespace = @ns AND name = @name{(forUpdate ? D.ForUpdate : "")}",
            ReadSchedule, ("@ns", ns), ("@name", name));

    public Task<ScheduleRecord?> GetScheduleAsync(string ns, string name) =>
        InReadAsync(tx => SelectScheduleAsync(tx, ns, name, forUpdate: false));

    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(string ns) => InReadAsync<IReadOnlyList<ScheduleRecord>>(async tx =>
    {
        await RequireNamespaceAsync(tx, ns);
        return await tx.QueryAsync($"SELECT {RecordMaps.ScheduleColumns} FROM workflow_schedules WHERE namespace = @ns ORDER BY name",
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

    // ── firing ──────────────────────────────────────────────────────────────────────────────

    public Task<double?> NextScheduleDueAsync() => InReadAsync(async tx =>
    {
        var v = await tx.ScalarAsync("SELECT MIN(next_run_at) FROM workflow_schedules WHERE paused = 0");
        return v is null ? (double?)null : Convert.ToDouble(v, CultureInfo.InvariantCulture);
    });

    /// <summary>Fires every due schedule (and drains buffers whose running workflow finished), each in its
    /// own transaction guarded by the schedule's row lock and its <c>next_run_at</c>. Returns runs started.</summary>
    public async Task<int> FireDueSchedulesAsync()
    {
        var due = await InReadAsync(tx => tx.QueryAsync(
            "SELECT namespace, name FROM workflow_schedules WHERE paused = 0 AND (next_run_at <= @now OR buffered IS NOT NULL) ORDER BY next_run_at",
            x => (Ns: x.Str("namespace"), Name: x.Str("name")), ("@now", tx.Now)));
        var started = 0;
        foreach (var (ns, name) in due)
        {
            try
            {
                started += await WriteAsync(tx => FireScheduleAsync(tx, ns, name));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.LogWarning("Schedule {Namespace}/{Name} could not fire: {Message}", ns, name, e.Message);
            }
        }
        return started;
    }

    /// <summary>Mutable firing state of one schedule within one transaction.</summary>
    sealed class FireState(ScheduleRecord s)
    {
        public ScheduleRecord S { get; } = s;
        public string? LastWorkflowId = s.LastWorkflowId;
        public double? LastRunAt = s.LastRunAt;
        public List<double> Buffer = ParseBuffered(s.Buffered);
    }

    async Task<int> FireScheduleAsync(Tx tx, string ns, string name)
    {
        var s = await SelectScheduleAsync(tx, ns, name, forUpdate: true);
        if (s is null || s.Paused) return 0;
        var st = new FireState(s);
        var started = 0;
        var next = s.NextRunAt;

        // A buffered occurrence starts once the run it waited for has finished.
        if (st.Buffer.Count > 0 && !await IsRunningAsync(tx, st.LastWorkflowId))
        {
            var t = st.Buffer[0];
            st.Buffer.RemoveAt(0);
            if (await StartScheduledRunAsync(tx, st, RunIdFor(s, t)) is not null) started++;
        }

        if (s.NextRunAt is { } due && due <= tx.Now) // compare-and-set: only the transaction that sees it due fires it
        {
            try
            {
                var (fires, n) = CronSchedule.PlanFires(s.CronExpr, s.Timezone, due, tx.Now, s.CatchupWindowSecs);
                foreach (var t in fires)
                    if ((await ApplyOverlapAsync(tx, st, t, RunIdFor(s, t))).Outcome == "started")
                        started++;
                next = n;
            }
            catch (EngineException e)
            {
                Log.LogWarning("Schedule {Namespace}/{Name} has an invalid cron or zone, disabled: {Message}", ns, name, e.Message);
                next = null;
            }
        }

        await SaveFireStateAsync(tx, st, next);
        return started;
    }

    Task SaveFireStateAsync(Tx tx, FireState st, double? next) => tx.ExecAsync(
        """
        UPDATE workflow_schedules SET last_run_at = @last, next_run_at = @next, last_workflow_id = @wf, buffered = @buf
        WHERE namespace = @ns AND name = @name
        """,
        ("@last", st.LastRunAt), ("@next", next), ("@wf", st.LastWorkflowId),
        ("@buf", st.Buffer.Count == 0 ? null : JsonSerializer.Serialize(st.Buffer.ToArray(), StoreJsonContext.Default.DoubleArray)),
        ("@ns", st.S.Namespace), ("@name", st.S.Name));

    /// <summary>Applies the overlap policy to one occurrence scheduled at <paramref name="t"/>.</summary>
    async Task<ScheduleFireResult> ApplyOverlapAsync(Tx tx, FireState st, double t, string workflowId)
    {
        var policy = CronSchedule.Canonical(st.S.OverlapPolicy);
        var running = policy != "allow_all" && await IsRunningAsync(tx, st.LastWorkflowId);
        ScheduleFireResult Result(string outcome, string? id = null) => new() { Outcome = outcome, WorkflowId = id, ScheduledAt = t };
        switch (policy)
        {
            case "skip" when running:
                st.LastRunAt = tx.Now;
                return Result("skipped");
            case "buffer_one" when running || st.Buffer.Count > 0:
                if (st.Buffer.Count >= 1) return Result("skipped");
                st.Buffer.Add(t);
                return Result("buffered");
            case "buffer_all" when running || st.Buffer.Count > 0:
                if (st.Buffer.Count >= 1000) return Result("skipped");
                st.Buffer.Add(t);
                return Result("buffered");
            case "cancel_other" when running:
                if (await LoadAsync(tx, st.LastWorkflowId!) is { IsTerminal: false } prev) await RequestCancelAsync(tx, prev);
                break;
            case "terminate_other" when running:
                if (await LoadAsync(tx, st.LastWorkflowId!) is { IsTerminal: false } old)
                    await TerminateCoreAsync(tx, old, $"terminated by schedule {st.S.Name} (overlap policy terminate_other)", true);
                break;
        }
        var id = await StartScheduledRunAsync(tx, st, workflowId);
        return id is null ? Result("exists", workflowId) : Result("started", id);
    }

    /// <summary>Starts the run of an occurrence; null when that occurrence already ran (its id exists).</summary>
    async Task<string?> StartScheduledRunAsync(Tx tx, FireState st, string workflowId)
    {
        var s = st.S;
        var row = await CreateWorkflowAsync(tx, workflowId, s.Namespace, s.WorkflowType, s.TaskQueue, s.Input,
            searchAttributes: null, parentId: null, originId: null, continuedFrom: null);
        st.LastRunAt = tx.Now;
        if (row is null) return null;
        st.LastWorkflowId = row.Id;
        return row.Id;
    }

    async Task<bool> IsRunningAsync(Tx tx, string? workflowId)
    {
        if (workflowId is null) return false;
        if (tx.Rows.TryGetValue(workflowId, out var row)) return !row.IsTerminal;
        var status = await tx.ScalarAsync("SELECT status FROM workflows WHERE id = @id", ("@id", workflowId)) as string;
        return status is WorkflowStatus.Pending or WorkflowStatus.Running;
    }

    /// <summary>The workflow id of an occurrence: schedule name + scheduled time (epoch seconds). Derived, so
    /// an occurrence can start only once even if two engines fired it.</summary>
    internal static string RunIdFor(ScheduleRecord s, double t) =>
        (s.Namespace == "main" ? s.Name : $"{s.Namespace}-{s.Name}") + "-" + ((long)Math.Floor(t)).ToString(CultureInfo.InvariantCulture);

    static List<double> ParseBuffered(string? json) =>
        string.IsNullOrEmpty(json) ? [] : [.. JsonSerializer.Deserialize(json, StoreJsonContext.Default.DoubleArray) ?? []];

    static long CountBuffered(string? json) => ParseBuffered(json).Count;

    // ── trigger and backfill ────────────────────────────────────────────────────────────────

    /// <summary>Runs the schedule now (the overlap policy applies).</summary>
    public Task<ScheduleFireResult> TriggerScheduleAsync(string ns, string name) => WriteAsync(async tx =>
    {
        var s = await SelectScheduleAsync(tx, ns, name, forUpdate: true) ?? throw EngineException.NotFound($"schedule {name}");
        var st = new FireState(s);
        var ms = (long)Math.Floor(tx.Now * 1000);
        var baseId = (s.Namespace == "main" ? s.Name : $"{s.Namespace}-{s.Name}") + "-manual-" + ms.ToString(CultureInfo.InvariantCulture);
        var result = await ApplyOverlapAsync(tx, st, tx.Now, baseId);
        await SaveFireStateAsync(tx, st, s.NextRunAt);
        return result;
    });

    /// <summary>Starts every occurrence in [from, to] that has not run yet (ids derived from the times, so a
    /// repeated backfill starts nothing twice). Overlap policies do not apply: backfill is explicit.</summary>
    public Task<IReadOnlyList<ScheduleFireResult>> BackfillScheduleAsync(string ns, string name, double from, double to) =>
        WriteAsync<IReadOnlyList<ScheduleFireResult>>(async tx =>
        {
            var s = await SelectScheduleAsync(tx, ns, name, forUpdate: true) ?? throw EngineException.NotFound($"schedule {name}");
            var times = CronSchedule.Occurrences(s.CronExpr, s.Timezone, from, to, 1001);
            if (times.Count > 1000) throw EngineException.Invalid("backfill covers more than 1000 occurrences; use a shorter range");
            var st = new FireState(s);
            var results = new List<ScheduleFireResult>();
            foreach (var t in times)
            {
                var id = await StartScheduledRunAsync(tx, st, RunIdFor(s, t));
                results.Add(new ScheduleFireResult { Outcome = id is null ? "exists" : "started", WorkflowId = RunIdFor(s, t), ScheduledAt = t });
            }
            await SaveFireStateAsync(tx, st, s.NextRunAt);
            return results;
        });
}

[System.Text.Json.Serialization.JsonSerializable(typeof(double[]))]
internal sealed partial class StoreJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
