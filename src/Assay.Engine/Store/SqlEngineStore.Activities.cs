namespace Assay.Engine.Store;

// IActivityStore: activities — schedule, claim, complete, fail with the retry policy, hand back, heartbeat, timeouts.
internal abstract partial class SqlEngineStore
{
    public Task<ActivityRecord> ScheduleActivityAsync(string workflowId, ActivitySpec spec) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        if (row.CancelRequested) throw EngineException.Conflict($"workflow {workflowId} is being cancelled");
        var (id, _) = await ScheduleActivityCoreAsync(tx, row, spec);
        return (await tx.QuerySingleAsync($"SELECT {RecordMaps.ActivityColumns} FROM workflow_activities WHERE id = @id", RecordMaps.Activity, ("@id", id)))!;
    });

    /// <summary>Idempotent on (workflow, seq): a second schedule returns the first row untouched (Inserted false).
    /// <paramref name="wake"/> false: the caller claims the new activity itself (eager dispatch), so no poller is woken.</summary>
    async Task<(long Id, bool Inserted)> ScheduleActivityCoreAsync(Tx tx, WfRow row, ActivitySpec s, bool wake = true)
    {
        var nonRetryable = s.NonRetryableErrorTypes is { Count: > 0 } list
            ? JsonText.Build(w => { w.WriteStartArray(); foreach (var t in list) w.WriteStringValue(t); w.WriteEndArray(); })
            : null;
        var inserted = await tx.ScalarAsync(
            """
            INSERT INTO workflow_activities (workflow_id, seq, name, task_queue, input, status, priority, attempt, max_attempts,
                initial_interval_secs, backoff_coefficient, max_interval_secs, start_to_close_secs, heartbeat_timeout_secs,
                non_retryable_errors, scheduled_at)
            VALUES (@wf, @seq, @name, @queue, @input, 'PENDING', @priority, 1, @max, @initial, @coef, @maxint, @stc, @hb, @nonretry, @now)
            ON CONFLICT (workflow_id, seq) DO NOTHING
            RETURNING id
            """,
            ("@wf", row.Id), ("@seq", s.Seq), ("@name", s.Name), ("@queue", s.TaskQueue), ("@input", s.Input),
            ("@priority", (long)PriorityOf(row, s)), ("@max", s.MaxAttempts), ("@initial", s.InitialIntervalSecs), ("@coef", s.BackoffCoefficient),
            ("@maxint", s.MaxIntervalSecs), ("@stc", s.StartToCloseSecs), ("@hb", s.HeartbeatTimeoutSecs),
            ("@nonretry", nonRetryable), ("@now", tx.Now));
        if (inserted is null)
            return (Convert.ToInt64(await tx.ScalarAsync("SELECT id FROM workflow_activities WHERE workflow_id = @wf AND seq = @seq",
                ("@wf", row.Id), ("@seq", s.Seq))), false);

        var id = Convert.ToInt64(inserted);
        await AppendEventAsync(tx, row, EventType.ActivityScheduled, JsonText.Build(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("activity_id", id);
            w.WriteNumber("activity_seq", s.Seq);
            w.WriteString("name", s.Name);
            w.WriteString("task_queue", s.TaskQueue);
            // The reference embeds the input as a JSON *string* here; kept for compatibility.
            if (s.Input is null) w.WriteNull("input"); else w.WriteString("input", s.Input);
            w.WriteEndObject();
        }));
        if (row.Status == WorkflowStatus.Pending) SetStatus(row, WorkflowStatus.Running);
        if (wake) tx.Wakes.Add(new Wake(WakeKind.Activity, s.TaskQueue, tx.Now));
        return (id, true);
    }

    /// <summary>An activity's priority: its own, else its workflow's.</summary>
    static int PriorityOf(WfRow row, ActivitySpec spec) => spec.Priority ?? row.Priority;

    public Task<ActivityRecord?> GetActivityAsync(long id) => InReadAsync(tx =>
        tx.QuerySingleAsync($"SELECT {RecordMaps.ActivityColumns} FROM workflow_activities WHERE id = @id", RecordMaps.Activity, ("@id", id)));

    /// <summary>Starts an attempt: RUNNING for <c>@worker</c> from <c>@now</c>. The deadline is the earlier of start-to-close
    /// and the first heartbeat deadline, so one indexed column drives every timeout.</summary>
    const string ClaimActivitySet =
        """
        SET status = 'RUNNING', claimed_by = @worker, started_at = @now, last_heartbeat = NULL, lease_token = @token, lease_bound = @bound,
            timeout_at = @now + (CASE WHEN heartbeat_timeout_secs IS NOT NULL AND heartbeat_timeout_secs < start_to_close_secs
                                      THEN heartbeat_timeout_secs ELSE start_to_close_secs END)
        """;

    public Task<ActivityRecord?> ClaimActivityAsync(string queue, string workerId, bool leaseBound = false,
        IReadOnlyList<string>? types = null) => WriteAsync(tx =>
    {
        // Due-time filter: a retry waits out its backoff. Highest priority first, FIFO within one (ix_activities_claim).
        var (pick, typeParams) = ClaimPick(types, "name", ["priority", "scheduled_at", "id"], (columns, typeFilter) =>
            $"""
            SELECT {columns} FROM workflow_activities c
            WHERE c.task_queue = @queue{typeFilter} AND c.status = 'PENDING' AND c.scheduled_at <= @now AND {NotReleasedByActivityWorker}
            ORDER BY c.priority, c.scheduled_at, c.id LIMIT 1{D.SkipLocked}
            """);
        return ClaimActivityWhereAsync(tx, queue, workerId, leaseBound, $"id = ({pick})", typeParams);
    });

    /// <summary>Eager dispatch: claims an activity the same transaction has just scheduled, for the worker that scheduled it —
    /// unless an activity of higher priority is waiting on the queue (that one goes to a poller first).</summary>
    Task<ActivityRecord?> ClaimScheduledActivityAsync(Tx tx, long id, string queue, int priority, string workerId, bool leaseBound) =>
        ClaimActivityWhereAsync(tx, queue, workerId, leaseBound,
            """
            id = @id AND NOT EXISTS (SELECT 1 FROM workflow_activities h WHERE h.task_queue = @queue AND h.status = 'PENDING'
                                     AND h.priority < @priority AND h.scheduled_at <= @now)
            """, ("@id", id), ("@priority", (long)priority));

    /// <summary>Claims one attempt on <paramref name="queue"/>, within the queue's rate limit if it has one
    /// (<see cref="ClaimWithinRateLimitAsync{T}"/>).</summary>
    async Task<ActivityRecord?> ClaimActivityWhereAsync(Tx tx, string queue, string workerId, bool leaseBound, string where,
        params (string, object?)[] ps) =>
        // The common case, a queue without a limit, is one statement: the guard makes it claim nothing on a limited queue.
        await ClaimAttemptAsync(tx, queue, workerId, leaseBound, $"{where} AND {QueueNotRateLimited}", ps)
        ?? await ClaimWithinRateLimitAsync(tx, queue, () => ClaimAttemptAsync(tx, queue, workerId, leaseBound, where, ps));

    /// <summary>Claims one attempt with a fresh lease token, answered to the claimant only (never by GET /activities).</summary>
    async Task<ActivityRecord?> ClaimAttemptAsync(Tx tx, string queue, string workerId, bool leaseBound, string where,
        (string, object?)[] ps)
    {
        var token = NewToken();
        var claimed = await tx.QueryAsync(
            $"UPDATE workflow_activities {ClaimActivitySet} WHERE {where} AND status = 'PENDING' RETURNING {RecordMaps.ActivityColumns}, timeout_at",
            x => (Record: RecordMaps.Activity(x), TimeoutAt: x.Dbl("timeout_at")),
            [("@worker", workerId), ("@now", tx.Now), ("@token", token), ("@bound", leaseBound ? 1L : 0L), ("@queue", queue), .. ps]);
        if (claimed.Count == 0) return null;
        tx.Wakes.Add(new Wake(WakeKind.ActivityTimeout, "", claimed[0].TimeoutAt));
        claimed[0].Record.LeaseToken = token;
        return claimed[0].Record;
    }

    /// <summary>The activity row fields the outcome paths need, read inside the transaction.</summary>
    sealed record ActivityState(long Id, string WorkflowId, long Seq, string Name, string TaskQueue, string Status,
        string? ClaimedBy, long Attempt, long MaxAttempts, double InitialInterval, double Coefficient, double? MaxInterval,
        string? NonRetryable, double? StartedAt, double StartToClose, double? HeartbeatTimeout, double? TimeoutAt,
        string? LeaseToken, bool LeaseBound);

    async Task<(WfRow Row, ActivityState Act)> LoadActivityAsync(Tx tx, long id)
    {
        // Lock order everywhere: workflow row first, then its activity rows.
        var workflowId = await tx.ScalarAsync("SELECT workflow_id FROM workflow_activities WHERE id = @id", ("@id", id)) as string
            ?? throw EngineException.NotFound($"activity {id}");
        var row = await LoadRequiredAsync(tx, workflowId);
        var act = await tx.QuerySingleAsync(
            """
            SELECT id, workflow_id, seq, name, task_queue, status, claimed_by, attempt, max_attempts, initial_interval_secs,
                backoff_coefficient, max_interval_secs, non_retryable_errors, started_at, start_to_close_secs,
                heartbeat_timeout_secs, timeout_at, lease_token, lease_bound
            FROM workflow_activities WHERE id = @id
            """,
            x => new ActivityState(x.Long("id"), x.Str("workflow_id"), x.Long("seq"), x.Str("name"), x.Str("task_queue"), x.Str("status"),
                x.StrN("claimed_by"), x.Long("attempt"), x.Long("max_attempts"), x.Dbl("initial_interval_secs"),
                x.Dbl("backoff_coefficient"), x.DblN("max_interval_secs"), x.StrN("non_retryable_errors"), x.DblN("started_at"),
                x.Dbl("start_to_close_secs"), x.DblN("heartbeat_timeout_secs"), x.DblN("timeout_at"), x.StrN("lease_token"),
                x.Bool("lease_bound")),
            ("@id", id));
        return (row, act!);
    }

    /// <summary>Only the worker running the current attempt may report its outcome: the attempt's lease token is
    /// required for a lease-bound claim and checked whenever sent; worker and attempt are checked when sent.</summary>
    static void RequireRunningAttempt(ActivityState a, AttemptCheck check)
    {
        if (a.Status != ActivityStatus.Running)
            throw EngineException.Conflict($"activity {a.Id} is {a.Status}, not RUNNING");
        if (check.LeaseToken is not null ? !SameToken(check.LeaseToken, a.LeaseToken) : a.LeaseBound)
            throw EngineException.Conflict(check.LeaseToken is null
                ? $"activity {a.Id} was claimed with require_lease_token: send its lease_token"
                : $"activity {a.Id}: the lease token is not the current attempt's");
        if (check.WorkerId is not null && check.WorkerId != a.ClaimedBy)
            throw EngineException.Conflict($"activity {a.Id} is claimed by another worker");
        if (check.Attempt is not null && check.Attempt != a.Attempt)
            throw EngineException.Conflict($"activity {a.Id} is on attempt {a.Attempt}, not {check.Attempt}");
    }

    public Task<WorkflowTask?> CompleteActivityAsync(long id, AttemptCheck check, string? result, EagerWorkflowTask? next = null) =>
        WriteAsync(async tx =>
    {
        var (row, act) = await LoadActivityAsync(tx, id);
        RequireRunningAttempt(act, check);
        await ClearUnhandledAsync(tx, row);
        await tx.ExecAsync(
            "UPDATE workflow_activities SET status = 'COMPLETED', result = @result, completed_at = @now, timeout_at = NULL WHERE id = @id",
            ("@result", result), ("@now", tx.Now), ("@id", id));
        await AppendEventAsync(tx, row, EventType.ActivityCompleted, JsonText.Build(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("activity_id", act.Id);
            w.WriteNumber("activity_seq", act.Seq);
            w.WriteString("name", act.Name);
            w.WriteRawOrNull("result", result);
            w.WriteNull("error");
            w.WriteEndObject();
        }));
        return await DispatchOrHandOverAsync(tx, row, act, next);
    });

    public Task<WorkflowTask?> FailActivityAsync(long id, AttemptCheck check, ActivityFailure failure, EagerWorkflowTask? next = null) =>
        WriteAsync(async tx =>
    {
        var (row, act) = await LoadActivityAsync(tx, id);
        RequireRunningAttempt(act, check);
        await ClearUnhandledAsync(tx, row);
        return await FailAttemptAsync(tx, row, act, failure, next);
    });

    /// <summary>The outcome is in the history: the workflow must replay. With <paramref name="next"/> (eager workflow task) the
    /// replay goes to the reporting worker when it may take it, claimed here without waking a poller; otherwise pollers.</summary>
    async Task<WorkflowTask?> DispatchOrHandOverAsync(Tx tx, WfRow row, ActivityState act, EagerWorkflowTask? next)
    {
        // Handed over under the activity attempt's claim: bound the same way.
        if (next is not null && await HandOverWorkflowTaskAsync(tx, row, act.TaskQueue, act.LeaseBound, next) is { } task) return task;
        MarkDispatchable(tx, row);
        return null;
    }

    /// <summary>
    /// The one retry path, shared by worker-reported failures and timeouts: re-queue with backoff
    /// while attempts remain and the error is retryable; otherwise FAILED + ActivityFailed, and the
    /// workflow replays to decide.
    /// </summary>
    async Task<WorkflowTask?> FailAttemptAsync(Tx tx, WfRow row, ActivityState act, ActivityFailure failure, EagerWorkflowTask? next = null)
    {
        if (!failure.NonRetryable && !IsNonRetryableType(act, failure.ErrorType) && act.Attempt < act.MaxAttempts)
        {
            var delay = act.InitialInterval * Math.Pow(act.Coefficient, act.Attempt - 1);
            if (act.MaxInterval is { } cap) delay = Math.Min(delay, cap);
            if (!(delay <= Api.Limits.MaxDurationSecs)) delay = Api.Limits.MaxDurationSecs; // a steep coefficient overflows to infinity
            var due = tx.Now + Math.Max(0, delay);
            await tx.ExecAsync(
                """
                UPDATE workflow_activities SET status = 'PENDING', attempt = attempt + 1, scheduled_at = @due, error = @error,
                    claimed_by = NULL, started_at = NULL, last_heartbeat = NULL, timeout_at = NULL, lease_token = NULL, lease_bound = 0
                WHERE id = @id
                """, ("@due", due), ("@error", failure.Error), ("@id", act.Id));
            tx.Wakes.Add(new Wake(WakeKind.Activity, act.TaskQueue, due));
            return null;
        }
        await tx.ExecAsync(
            "UPDATE workflow_activities SET status = 'FAILED', error = @error, completed_at = @now, timeout_at = NULL WHERE id = @id",
            ("@error", failure.Error), ("@now", tx.Now), ("@id", act.Id));
        if (row.IsTerminal) return null;
        await AppendEventAsync(tx, row, EventType.ActivityFailed, JsonText.Build(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("activity_id", act.Id);
            w.WriteNumber("activity_seq", act.Seq);
            w.WriteString("name", act.Name);
            w.WriteString("error", failure.Error);
            w.WriteNumber("final_attempt", act.Attempt);
            if (failure.TimeoutType is not null) w.WriteString("timeout_type", failure.TimeoutType);
            if (failure.NonRetryable) w.WriteBoolean("non_retryable", true);
            w.WriteEndObject();
        }));
        return await DispatchOrHandOverAsync(tx, row, act, next);
    }

    static bool IsNonRetryableType(ActivityState act, string? errorType)
    {
        if (errorType is null || act.NonRetryable is null) return false;
        using var doc = JsonDocument.Parse(act.NonRetryable);
        foreach (var t in doc.RootElement.EnumerateArray())
            if (t.GetString() == errorType) return true;
        return false;
    }

    public Task<bool> HeartbeatActivityAsync(long id, AttemptCheck check, string? details) => WriteAsync(async tx =>
    {
        var (row, act) = await LoadActivityAsync(tx, id);
        if (act.Status == ActivityStatus.Cancelled) return true; // tell the worker to stop
        RequireRunningAttempt(act, check);
        var timeoutAt = act.TimeoutAt;
        if (act.HeartbeatTimeout is { } hb)
            timeoutAt = Math.Min((act.StartedAt ?? tx.Now) + act.StartToClose, tx.Now + hb);
        await tx.ExecAsync(
            "UPDATE workflow_activities SET last_heartbeat = @now, heartbeat_details = @details, timeout_at = @timeout WHERE id = @id",
            ("@now", tx.Now), ("@details", details), ("@timeout", timeoutAt), ("@id", id));
        return row.CancelRequested || row.IsTerminal;
    });

    public Task<int> TimeOutActivitiesAsync() => ProcessDueAsync(
        "SELECT id FROM workflow_activities WHERE status = 'RUNNING' AND timeout_at <= @now ORDER BY timeout_at LIMIT 200",
        async (tx, id) =>
        {
            var (row, act) = await LoadActivityAsync(tx, id);
            if (act.Status != ActivityStatus.Running || act.TimeoutAt is not { } at || at > tx.Now) return false;
            var type = (act.StartedAt ?? 0) + act.StartToClose <= tx.Now ? "start_to_close" : "heartbeat";
            Log.LogActivityTimeout(act.Id, act.Name, type, act.Attempt);
            await FailAttemptAsync(tx, row, act, new ActivityFailure($"activity timed out ({type})", false, null, type));
            return true;
        });

    public Task<double?> NextActivityTimeoutAsync() => InReadAsync(async tx =>
        await tx.ScalarAsync("SELECT MIN(timeout_at) FROM workflow_activities WHERE status = 'RUNNING'") is { } v ? Convert.ToDouble(v) : (double?)null);

    public Task<IReadOnlyList<ActivityRecord>> GetActivitiesAsync(string workflowId) => InReadAsync<IReadOnlyList<ActivityRecord>>(async tx =>
        await tx.QueryAsync($"SELECT {RecordMaps.ActivityColumns} FROM workflow_activities WHERE workflow_id = @id ORDER BY seq",
            RecordMaps.Activity, ("@id", workflowId)));

    public Task ReleaseActivityAsync(long id, AttemptCheck check, TaskRelease release) => WriteAsync(async tx =>
    {
        var (row, act) = await LoadActivityAsync(tx, id);
        RequireRunningAttempt(act, check); // a finished workflow's activities are CANCELLED: 409, nothing to hand back
        // Back to PENDING on the same attempt and in its place in the queue (scheduled_at is kept).
        await tx.ExecAsync(
            """
            UPDATE workflow_activities SET status = 'PENDING', claimed_by = NULL, started_at = NULL, last_heartbeat = NULL,
                timeout_at = NULL, lease_token = NULL, lease_bound = 0
            WHERE id = @id
            """, ("@id", id));
        await tx.ExecAsync("DELETE FROM activity_releases WHERE until_at <= @now", ("@now", tx.Now));
        if (release.BackoffSecs > 0)
            await tx.ExecAsync(
                """
                INSERT INTO activity_releases (activity_id, worker_id, until_at) VALUES (@id, @worker, @until)
                ON CONFLICT (activity_id, worker_id) DO UPDATE SET until_at = excluded.until_at
                """, ("@id", id), ("@worker", check.WorkerId), ("@until", tx.Now + release.BackoffSecs));
        if (release.Unhandled)
            await NoteUnhandledAsync(tx, row, "activity", act.Name, act.TaskQueue, check.WorkerId!);
        tx.Wakes.Add(new Wake(WakeKind.ActivityReleased, act.TaskQueue));
    });

    /// <summary>Claim filter: not an activity this worker handed back and is still backing off from (alias <c>c</c>).</summary>
    const string NotReleasedByActivityWorker =
        "NOT EXISTS (SELECT 1 FROM activity_releases r WHERE r.activity_id = c.id AND r.worker_id = @worker AND r.until_at > @now)";
}

internal static partial class StoreLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Information,
        Message = "Activity {ActivityId} ({Name}) timed out ({TimeoutType}) on attempt {Attempt}")]
    public static partial void LogActivityTimeout(this Microsoft.Extensions.Logging.ILogger logger, long activityId, string name, string timeoutType, long attempt);
}
