namespace Assay.Engine.Store;

// Workflow-row changes shared by the roles: load and lock a row once per transaction, write it back before commit,
// append events, make a workflow dispatchable, create one, finish one (notifying its parent), and the notes a
// hand-back of a task whose type the worker lacks leaves on the workflow.
internal abstract partial class SqlEngineStore
{
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
                    lease_owner = @lo, lease_token = @lt, lease_expires_at = @le, lease_bound = @lb, cancel_requested = @cr,
                    search_attributes = @sa, continued_to = @ct
                WHERE id = @id
                """,
                ("@status", row.Status), ("@result", row.Result), ("@error", row.Error), ("@completed_at", row.CompletedAt),
                ("@now", tx.Now), ("@seq", row.NextEventSeq), ("@nd", row.NeedsDispatch ? 1L : 0L), ("@dra", row.DispatchReadyAt),
                ("@lo", row.LeaseOwner), ("@lt", row.LeaseToken), ("@le", row.LeaseExpiresAt), ("@lb", row.LeaseBound ? 1L : 0L), ("@cr", row.CancelRequested ? 1L : 0L),
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
        string? input, string? searchAttributes, string? parentId, string? originId, string? continuedFrom,
        int priority = Priorities.Default)
    {
        var runId = $"run-{id}-{(long)Math.Floor(tx.Now)}";
        var inserted = await tx.ExecAsync(
            """
            INSERT INTO workflows (id, namespace, run_id, workflow_type, task_queue, status, priority, input, parent_id, origin_id,
                search_attributes, next_event_seq, needs_dispatch, dispatch_ready_at, cancel_requested, continued_from,
                created_at, updated_at)
            VALUES (@id, @ns, @run, @type, @queue, 'PENDING', @priority, @input, @parent, @origin, @sa, 2, 1, @now, 0, @from, @now, @now)
            ON CONFLICT (id) DO NOTHING
            """,
            ("@id", id), ("@ns", ns), ("@run", runId), ("@type", type), ("@queue", queue), ("@priority", (long)priority),
            ("@input", input), ("@parent", parentId), ("@origin", originId), ("@sa", searchAttributes), ("@from", continuedFrom),
            ("@now", tx.Now));
        if (inserted == 0) return null;
        var row = new WfRow
        {
            Id = id, Namespace = ns, RunId = runId, WorkflowType = type, TaskQueue = queue, Status = WorkflowStatus.Pending,
            Priority = priority,
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

    static async Task RequireWorkflowExistsAsync(Tx tx, string id)
    {
        if (await tx.ScalarAsync("SELECT 1 FROM workflows WHERE id = @id", ("@id", id)) is null)
            throw EngineException.NotFound($"workflow {id}");
    }

    static async Task RequireNamespaceAsync(Tx tx, string ns)
    {
        if (await tx.ScalarAsync("SELECT 1 FROM namespaces WHERE name = @ns", ("@ns", ns)) is null)
            throw EngineException.NotFound($"namespace {ns}");
    }

    // ── hand-back notes (POST /workflow-tasks/{id}/release, /tasks/{id}/release) ────────────
    // A stopping worker, or one that does not define the task's type, returns the task untouched so another worker runs
    // it at once. A backoff keeps the task away from the releasing worker only (a row per worker in *_releases, filtered
    // by the claims), so the workers that have the type are not delayed while a queue nobody serves does not spin.

    static Task NoteUnhandledAsync(Tx tx, WfRow row, string kind, string name, string queue, string workerId)
    {
        row.UnhandledKind = kind;
        return tx.ExecAsync(
            """
            UPDATE workflows SET unhandled_kind = @kind, unhandled_name = @name, unhandled_queue = @queue, unhandled_by = @worker,
                unhandled_at = @now
            WHERE id = @id
            """, ("@kind", kind), ("@name", name), ("@queue", queue), ("@worker", workerId), ("@now", tx.Now), ("@id", row.Id));
    }

    /// <summary>A worker made progress on the workflow: whatever was handed back has found a worker.</summary>
    static async Task ClearUnhandledAsync(Tx tx, WfRow row)
    {
        if (row.UnhandledKind is null) return;
        row.UnhandledKind = null;
        await tx.ExecAsync(
            """
            UPDATE workflows SET unhandled_kind = NULL, unhandled_name = NULL, unhandled_queue = NULL, unhandled_by = NULL,
                unhandled_at = NULL
            WHERE id = @id
            """, ("@id", row.Id));
    }
}
