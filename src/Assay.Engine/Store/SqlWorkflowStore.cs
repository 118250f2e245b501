using System.Data.Common;
using Assay.Engine.Core;
using Microsoft.Extensions.Logging;

namespace Assay.Engine.Store;

/// <summary>
/// The engine's durable semantics, written once against ADO.NET. The SQLite and PostgreSQL
/// subclasses only supply connections, transaction boundaries and the <see cref="SqlDialect"/>.
/// Partial files: Workflows, Dispatch, Activities, Registry.
/// </summary>
internal abstract partial class SqlWorkflowStore(SqlDialect dialect, ILogger logger) : IWorkflowStore
{
    protected readonly SqlDialect D = dialect;
    protected readonly ILogger Log = logger;

    public abstract string BackendName { get; }
    public IWorkListener? Listener { get; set; }
    public Pulse EventsAppended { get; } = new();
    /// <summary>Told the duration (seconds) of every write transaction (metrics).</summary>
    public Action<double>? WriteObserved { get; set; }
    public event Action<StatusChange>? StatusChanged;

    /// <summary>Runs <paramref name="body"/> in one write transaction and commits it; retries on transient conflicts.</summary>
    protected abstract Task<T> InWriteTransactionAsync<T>(Func<Tx, Task<T>> body);

    /// <summary>Runs <paramref name="body"/> on a connection for reading (no transaction needed).</summary>
    protected abstract Task<T> InReadAsync<T>(Func<Tx, Task<T>> body);

    /// <summary>Last chance to act inside the transaction (Postgres publishes wake-ups to other instances).</summary>
    protected virtual Task BeforeCommitAsync(Tx tx) => Task.CompletedTask;

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
        if (done is not null)
        {
            if (done.Appended) EventsAppended.Fire();
            if (done.StatusChanges.Count > 0 && StatusChanged is { } handler)
                foreach (var c in done.StatusChanges) handler(c);
        }
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
            }
        }
    }

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

    // ── workflow rows ───────────────────────────────────────────────────────────────────────

    /// <summary>Loads and locks a workflow row for the rest of the transaction (once per transaction).</summary>
    protected async Task<WfRow?> LoadAsync(Tx tx, string id)
    {
        if (tx.Rows.TryGetValue(id, out var row)) return row;
        row = await tx.QuerySingleAsync($"SELECT {WfRow.Columns} FROM workflows WHERE id = @id{D.ForUpdate}", WfRow.Read, ("@id", id));
        if (row is not null) tx.Rows[id] = row;
        return row;
    }

    protected async Task<WfRow> LoadRequiredAsync(Tx tx, string id) =>
        await LoadAsync(tx, id) ?? throw EngineException.NotFound($"workflow {id}");

    static async Task FlushRowsAsync(Tx tx)
    {
        foreach (var row in tx.Rows.Values)
        {
            if (row.Status != row.SavedStatus)
            {
                tx.StatusChanges.Add(new StatusChange(row.Id, row.Namespace, row.WorkflowType, row.Status, tx.Now));
                row.SavedStatus = row.Status;
            }
            if (!row.Dirty) continue;
            await tx.ExecAsync(
                """
                UPDATE workflows SET status = @status, result = @result, error = @error, completed_at = @completed_at,
                    updated_at = @now, next_event_seq = @seq, needs_dispatch = @nd, dispatch_ready_at = @dra,
                    lease_owner = @lo, lease_token = @lt, lease_expires_at = @le, cancel_requested = @cr,
                    search_attributes = @sa, continued_to = @ct
                WHERE id = @id
                """,
                ("@status", row.Status), ("@result", row.Result), ("@error", row.Error), ("@completed_at", row.CompletedAt),
                ("@now", tx.Now), ("@seq", row.NextEventSeq), ("@nd", row.NeedsDispatch ? 1L : 0L), ("@dra", row.DispatchReadyAt),
                ("@lo", row.LeaseOwner), ("@lt", row.LeaseToken), ("@le", row.LeaseExpiresAt), ("@cr", row.CancelRequested ? 1L : 0L),
                ("@sa", row.SearchAttributes), ("@ct", row.ContinuedTo), ("@id", row.Id));
            row.Dirty = false;
        }
    }

    /// <summary>Appends an event with the next sequence number of the workflow.</summary>
    protected static async Task<long> AppendEventAsync(Tx tx, WfRow row, string eventType, string? payload)
    {
        var seq = row.NextEventSeq++;
        row.Dirty = true;
        tx.Appended = true;
        await tx.ExecAsync(
            "INSERT INTO workflow_events (workflow_id, seq, event_type, payload, timestamp) VALUES (@wf, @seq, @type, @payload, @now)",
            ("@wf", row.Id), ("@seq", seq), ("@type", eventType), ("@payload", payload), ("@now", tx.Now));
        return seq;
    }

    /// <summary>Something new happened to the workflow: a worker must replay it. Wakes pollers unless a lease is held
    /// (then the release will).</summary>
    protected static void MarkDispatchable(Tx tx, WfRow row)
    {
        if (row.IsTerminal) return;
        if (!row.NeedsDispatch)
        {
            row.NeedsDispatch = true;
            row.DispatchReadyAt = tx.Now;
            row.Dirty = true;
        }
        if (row.LeaseOwner is null) tx.Wakes.Add(new Wake(WakeKind.WorkflowTask, row.TaskQueue));
    }

    protected static void SetStatus(WfRow row, string status)
    {
        row.Status = status;
        row.Dirty = true;
    }

    /// <summary>Inserts a new workflow with its WorkflowStarted event, dispatchable. Null when the id is taken.</summary>
    protected static async Task<WfRow?> CreateWorkflowAsync(Tx tx, string id, string ns, string type, string queue,
        string? input, string? searchAttributes, string? parentId, string? originId, string? continuedFrom)
    {
        var runId = $"run-{id}-{(long)Math.Floor(tx.Now)}";
        var inserted = await tx.ExecAsync(
            """
            INSERT INTO workflows (id, namespace, run_id, workflow_type, task_queue, status, input, parent_id, origin_id,
                search_attributes, next_event_seq, needs_dispatch, dispatch_ready_at, cancel_requested, continued_from,
                created_at, updated_at)
            VALUES (@id, @ns, @run, @type, @queue, 'PENDING', @input, @parent, @origin, @sa, 2, 1, @now, 0, @from, @now, @now)
            ON CONFLICT (id) DO NOTHING
            """,
            ("@id", id), ("@ns", ns), ("@run", runId), ("@type", type), ("@queue", queue), ("@input", input),
            ("@parent", parentId), ("@origin", originId), ("@sa", searchAttributes), ("@from", continuedFrom), ("@now", tx.Now));
        if (inserted == 0) return null;
        var row = new WfRow
        {
            Id = id, Namespace = ns, RunId = runId, WorkflowType = type, TaskQueue = queue, Status = WorkflowStatus.Pending,
            ParentId = parentId, OriginId = originId, SearchAttributes = searchAttributes, NextEventSeq = 2,
            NeedsDispatch = true, DispatchReadyAt = tx.Now,
        };
        tx.Rows[id] = row;
        // seq 1 is written with the row (next_event_seq = 2), so a fresh workflow costs no extra UPDATE.
        await tx.ExecAsync(
            "INSERT INTO workflow_events (workflow_id, seq, event_type, payload, timestamp) VALUES (@wf, 1, @type, @payload, @now)",
            ("@wf", id), ("@type", EventType.WorkflowStarted), ("@payload", input), ("@now", tx.Now));
        tx.Wakes.Add(new Wake(WakeKind.WorkflowTask, queue));
        tx.Appended = true;
        return row;
    }

    /// <summary>How a finished run is reported to a waiting parent.</summary>
    protected enum ParentNotice { None, Completed, Failed }

    /// <summary>
    /// Moves a workflow to a terminal status exactly once: terminal event, lease released, its
    /// outstanding activities and timers cancelled, parent notified.
    /// </summary>
    protected async Task FinishAsync(Tx tx, WfRow row, string status, string? result, string? error,
        string eventType, string? eventPayload, ParentNotice notice, string? parentError = null, string? reason = null)
    {
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {row.Id} is already {row.Status}");
        SetStatus(row, status);
        if (result is not null) row.Result = result;
        if (error is not null) row.Error = error;
        row.CompletedAt ??= tx.Now;
        row.NeedsDispatch = false;
        row.DispatchReadyAt = null;
        row.ClearLease();
        await AppendEventAsync(tx, row, eventType, eventPayload);

        // Nothing may run for a finished workflow: pending and running activities are cancelled
        // (a running one learns it from its next heartbeat; its late completion is refused).
        await tx.ExecAsync(
            "UPDATE workflow_activities SET status = 'CANCELLED', completed_at = @now, timeout_at = NULL WHERE workflow_id = @id AND status IN ('PENDING', 'RUNNING')",
            ("@id", row.Id), ("@now", tx.Now));
        await tx.ExecAsync("UPDATE workflow_timers SET fired = 1 WHERE workflow_id = @id AND fired = 0", ("@id", row.Id));

        if (notice != ParentNotice.None && row.ParentId is not null)
            await NotifyParentAsync(tx, row, notice, result, parentError ?? error, reason);
    }

    async Task NotifyParentAsync(Tx tx, WfRow child, ParentNotice notice, string? result, string? error, string? reason)
    {
        var parent = await LoadAsync(tx, child.ParentId!);
        if (parent is null || parent.IsTerminal) return;
        // The parent knows the child by the id it started it with, even after continue-as-new.
        var childId = child.OriginId ?? child.Id;
        if (notice == ParentNotice.Completed)
        {
            await AppendEventAsync(tx, parent, EventType.ChildWorkflowCompleted, JsonText.Build(w =>
            {
                w.WriteStartObject();
                w.WriteString("child_workflow_id", childId);
                w.WriteRawOrNull("result", result);
                w.WriteEndObject();
            }));
        }
        else
        {
            await AppendEventAsync(tx, parent, EventType.ChildWorkflowFailed, JsonText.Build(w =>
            {
                w.WriteStartObject();
                w.WriteString("child_workflow_id", childId);
                w.WriteString("error", error ?? "child workflow failed");
                if (reason is not null) w.WriteString("reason", reason);
                w.WriteEndObject();
            }));
        }
        MarkDispatchable(tx, parent);
    }

    /// <summary>Cancels the timers and pending activities of a workflow (cancel requested, not yet finished).</summary>
    protected static async Task CancelPendingWorkAsync(Tx tx, WfRow row)
    {
        await tx.ExecAsync(
            "UPDATE workflow_activities SET status = 'CANCELLED', completed_at = @now WHERE workflow_id = @id AND status = 'PENDING'",
            ("@id", row.Id), ("@now", tx.Now));
        await tx.ExecAsync("UPDATE workflow_timers SET fired = 1 WHERE workflow_id = @id AND fired = 0", ("@id", row.Id));
    }

    /// <summary>A lease token: 128 random bits, the proof that a report comes from the claimant.</summary>
    protected static string NewToken() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>Constant-time token comparison (a token is a credential for its claim).</summary>
    protected static bool SameToken(string? a, string? b) =>
        a is not null && b is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));

    // ── record readers ──────────────────────────────────────────────────────────────────────

    protected const string WorkflowColumns =
        "w.id, w.namespace, w.run_id, w.workflow_type, w.task_queue, w.status, w.input, w.result, w.error, w.parent_id, " +
        "w.claimed_by, w.search_attributes, w.archived_at, w.archive_uri, w.created_at, w.updated_at, w.completed_at, " +
        "w.continued_from, w.continued_to, w.unhandled_kind, w.unhandled_name, w.unhandled_queue, w.unhandled_by, w.unhandled_at";

    protected static WorkflowRecord ReadWorkflow(DbDataReader r) => new()
    {
        Id = r.Str(0), Namespace = r.Str(1), RunId = r.Str(2), WorkflowType = r.Str(3), TaskQueue = r.Str(4),
        Status = r.Str(5), Input = r.StrN(6), Result = r.StrN(7), Error = r.StrN(8), ParentId = r.StrN(9),
        ClaimedBy = r.StrN(10), SearchAttributes = r.StrN(11), ArchivedAt = r.DblN(12), ArchiveUri = r.StrN(13),
        CreatedAt = r.Dbl(14), UpdatedAt = r.Dbl(15), CompletedAt = r.DblN(16), ContinuedFrom = r.StrN(17),
        ContinuedTo = r.StrN(18), Unhandled = ReadUnhandled(r, 19),
    };

    static UnhandledTask? ReadUnhandled(DbDataReader r, int at) => r.IsDBNull(at) ? null : new()
    {
        Kind = r.Str(at), Name = r.Str(at + 1), TaskQueue = r.Str(at + 2), WorkerId = r.Str(at + 3), At = r.Dbl(at + 4),
    };

    public Task<long> MaxEventIdAsync() => InReadAsync(async tx =>
        Convert.ToInt64(await tx.ScalarAsync("SELECT COALESCE(MAX(id), 0) FROM workflow_events") ?? 0L));

    public Task<IReadOnlyList<StreamEvent>> ReadEventStreamAsync(long afterId, string? ns, string? workflowId, int limit) =>
        InReadAsync<IReadOnlyList<StreamEvent>>(async tx => await tx.QueryAsync(
            $"""
            SELECT e.id, e.workflow_id, w.namespace, w.workflow_type, e.seq, e.event_type, e.payload, e.timestamp, w.status
            FROM workflow_events e JOIN workflows w ON w.id = e.workflow_id
            WHERE e.id > @after{(ns is null ? "" : " AND w.namespace = @ns")}{(workflowId is null ? "" : " AND e.workflow_id = @wf")}
            ORDER BY e.id LIMIT @limit
            """,
            x => new StreamEvent
            {
                Id = x.Long(0), WorkflowId = x.Str(1), Namespace = x.Str(2), WorkflowType = x.Str(3), Seq = x.Long(4),
                EventType = x.Str(5), Payload = x.StrN(6), Timestamp = x.Dbl(7), Status = x.Str(8),
            }, ("@after", afterId), ("@ns", ns), ("@wf", workflowId), ("@limit", (long)limit)));

    protected const string EventColumns = "id, workflow_id, seq, event_type, payload, timestamp";

    protected static EventRecord ReadEvent(DbDataReader r) => new()
    {
        Id = r.Long(0), WorkflowId = r.Str(1), Seq = r.Long(2), EventType = r.Str(3), Payload = r.StrN(4), Timestamp = r.Dbl(5),
    };

    protected const string ActivityColumns =
        "id, workflow_id, seq, name, task_queue, input, status, result, error, attempt, max_attempts, " +
        "initial_interval_secs, backoff_coefficient, max_interval_secs, start_to_close_secs, heartbeat_timeout_secs, " +
        "claimed_by, scheduled_at, started_at, completed_at, last_heartbeat";

    protected static ActivityRecord ReadActivity(DbDataReader r) => new()
    {
        Id = r.Long(0), WorkflowId = r.Str(1), Seq = r.Long(2), Name = r.Str(3), TaskQueue = r.Str(4), Input = r.StrN(5),
        Status = r.Str(6), Result = r.StrN(7), Error = r.StrN(8), Attempt = r.Long(9), MaxAttempts = r.Long(10),
        InitialIntervalSecs = r.Dbl(11), BackoffCoefficient = r.Dbl(12), MaxIntervalSecs = r.DblN(13),
        StartToCloseSecs = r.Dbl(14), HeartbeatTimeoutSecs = r.DblN(15), ClaimedBy = r.StrN(16),
        ScheduledAt = r.Dbl(17), StartedAt = r.DblN(18), CompletedAt = r.DblN(19), LastHeartbeat = r.DblN(20),
    };
}
