namespace Assay.Engine.Store;

// IDispatchStore: workflow tasks — the lease a worker takes to replay a workflow, the command batch it returns, the
// hand-back of a leased task, and recovery of leases that ran out.
internal abstract partial class SqlEngineStore
{
    public Task<WorkflowTask?> ClaimWorkflowTaskAsync(string queue, string workerId, double leaseSecs, long afterSeq,
        bool leaseBound = false, IReadOnlyList<string>? types = null) => WriteAsync(async tx =>
    {
        var token = NewToken();
        var expires = tx.Now + leaseSecs;
        // Highest priority first, FIFO within one by the time the workflow became dispatchable (ix_workflows_dispatch);
        // SKIP LOCKED lets concurrent claimers pass each other.
        var (pick, typeParams) = ClaimPick(types, "workflow_type", ["priority", "dispatch_ready_at"], (columns, typeFilter) =>
            $"""
            SELECT {columns} FROM workflows c
            WHERE c.task_queue = @queue{typeFilter} AND c.needs_dispatch = 1 AND c.lease_owner IS NULL
              AND c.status IN ('PENDING', 'RUNNING') AND {NotReleasedByWorkflowWorker}
            ORDER BY c.priority, c.dispatch_ready_at LIMIT 1{D.SkipLocked}
            """);
        var claimed = await tx.QuerySingleAsync(
            $"""
            UPDATE workflows SET lease_owner = @worker, lease_token = @token, lease_expires_at = @expires, lease_bound = @bound,
                needs_dispatch = 0, dispatch_ready_at = NULL, updated_at = @now,
                status = CASE WHEN status = 'PENDING' THEN 'RUNNING' ELSE status END
            WHERE id = ({pick})
              AND lease_owner IS NULL
            RETURNING id, run_id, namespace, workflow_type, task_queue, input
            """,
            x => new
            {
                Id = x.Str("id"), RunId = x.Str("run_id"), Ns = x.Str("namespace"), Type = x.Str("workflow_type"),
                Queue = x.Str("task_queue"), Input = x.StrN("input"),
            },
            [("@worker", workerId), ("@token", token), ("@expires", expires), ("@now", tx.Now), ("@queue", queue),
            ("@bound", leaseBound ? 1L : 0L), ..typeParams]);
        if (claimed is null) return null;
        return new WorkflowTask
        {
            WorkflowId = claimed.Id, RunId = claimed.RunId, Namespace = claimed.Ns, WorkflowType = claimed.Type,
            TaskQueue = claimed.Queue, Input = claimed.Input, LeaseToken = token, LeaseExpiresAt = expires,
            History = await HistoryAsync(tx, claimed.Id, afterSeq),
        };
    });

    static async Task<IReadOnlyList<EventRecord>> HistoryAsync(Tx tx, string workflowId, long afterSeq) =>
        await tx.QueryAsync($"SELECT {RecordMaps.EventColumns} FROM workflow_events WHERE workflow_id = @id AND seq > @after ORDER BY seq",
            RecordMaps.Event, ("@id", workflowId), ("@after", afterSeq));

    /// <summary>
    /// Eager workflow task: an activity report whose outcome makes <paramref name="row"/> ready for a replay claims that
    /// workflow task for the reporting worker in the same transaction, as a poll by that worker on the activity's queue would
    /// — unless the worker could not have polled it (another queue, a type it did not list, a task it handed back and is
    /// backing off from), someone holds the lease, or a workflow task of higher priority waits on the queue (a poller takes
    /// that first). Null: not handed over; the caller makes the workflow dispatchable as usual.
    /// </summary>
    async Task<WorkflowTask?> HandOverWorkflowTaskAsync(Tx tx, WfRow row, string activityQueue, bool leaseBound, EagerWorkflowTask next)
    {
        if (row.IsTerminal || row.LeaseOwner is not null || row.TaskQueue != activityQueue) return null;
        if (next.Types is not null && !next.Types.Contains(row.WorkflowType)) return null;
        // One statement: the workflow's input, or no row when the task is not this worker's to take.
        var free = await tx.QuerySingleAsync(
            $"""
            SELECT c.input FROM workflows c
            WHERE c.id = @id AND {NotReleasedByWorkflowWorker}
              AND NOT EXISTS (SELECT 1 FROM workflows h WHERE h.task_queue = @queue AND h.needs_dispatch = 1 AND h.lease_owner IS NULL
                              AND h.priority < @priority AND h.status IN ('PENDING', 'RUNNING'))
            """,
            x => new { Input = x.StrN("input") },
            ("@queue", row.TaskQueue), ("@priority", (long)row.Priority), ("@id", row.Id), ("@worker", next.WorkerId), ("@now", tx.Now));
        if (free is null) return null;
        var token = NewToken();
        row.LeaseOwner = next.WorkerId;
        row.LeaseToken = token;
        row.LeaseExpiresAt = tx.Now + next.LeaseSecs;
        row.LeaseBound = leaseBound;
        row.NeedsDispatch = false;
        row.DispatchReadyAt = null;
        if (row.Status == WorkflowStatus.Pending) SetStatus(row, WorkflowStatus.Running);
        row.Dirty = true;
        return new WorkflowTask
        {
            WorkflowId = row.Id, RunId = row.RunId, Namespace = row.Namespace, WorkflowType = row.WorkflowType,
            TaskQueue = row.TaskQueue, Input = free.Input, LeaseToken = token, LeaseExpiresAt = row.LeaseExpiresAt.Value,
            History = await HistoryAsync(tx, row.Id, 0),
        };
    }

    /// <summary>The caller must hold the current lease: same worker, and the lease's token — always for a lease-bound
    /// claim, and whenever one is sent (a claim by a poll that did not ask for binding accepts reports without one).</summary>
    internal static void RequireLease(WfRow row, string workerId, string? leaseToken)
    {
        if (row.LeaseOwner is null || row.LeaseOwner != workerId || (leaseToken is not null && !SameToken(leaseToken, row.LeaseToken)))
            throw EngineException.Conflict($"workflow task lease for {row.Id} is not held by {workerId} (expired, released or taken over)");
        if (leaseToken is null && row.LeaseBound)
            throw EngineException.Conflict($"workflow task lease for {row.Id} was claimed with require_lease_token: send its lease_token");
    }

    /// <summary>Applies a command batch. With <paramref name="eagerActivities"/> &gt; 0 (eager dispatch), up to that many of
    /// the activities the batch schedules on the workflow's own task queue are claimed at once for the submitting worker
    /// and returned, saving it an activity poll each; the rest wait for pollers as usual.</summary>
    public Task<IReadOnlyList<ActivityRecord>> SubmitCommandsAsync(string workflowId, string workerId, string? leaseToken,
        IReadOnlyList<WorkflowCommand> commands, int eagerActivities = 0, IReadOnlyList<string>? activityTypes = null) =>
        WriteAsync<IReadOnlyList<ActivityRecord>>(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        RequireLease(row, workerId, leaseToken);
        await ClearUnhandledAsync(tx, row);

        var batch = new BatchState { WorkerId = workerId, EagerSlots = eagerActivities, EagerTypes = activityTypes };
        foreach (var command in commands)
            await ApplyCommandAsync(tx, row, command, batch);

        if (row.IsTerminal) return []; // finishing released the lease and cancelled anything claimed eagerly
        row.ClearLease();
        // An upsert-only batch (an SDK that does not wait on anything after it) replays at once.
        if (batch.Redispatch || (batch.SearchAttributesChanged && batch.OnlyBookkeeping)) MarkDispatchable(tx, row);
        else if (row.NeedsDispatch) tx.Wakes.Add(new Wake(WakeKind.WorkflowTask, row.TaskQueue)); // events arrived during the lease
        return batch.Eager;
    });

    sealed class BatchState
    {
        public bool Redispatch;
        public bool SearchAttributesChanged;
        public bool OnlyBookkeeping = true; // only snapshot / upsert commands so far
        public required string WorkerId;
        public int EagerSlots;
        public IReadOnlyList<string>? EagerTypes; // the activity types the worker runs; null = any
        public List<ActivityRecord> Eager { get; } = [];
    }

    /// <summary>Schedules an activity, claiming it for the submitting worker while eager slots remain. Only activities on the
    /// workflow's own queue qualify (the worker polls that queue), of a type it runs (when it said which), and only new
    /// ones (a replayed schedule may be running).</summary>
    async Task ScheduleFromCommandAsync(Tx tx, WfRow row, ActivitySpec spec, BatchState batch)
    {
        var eager = batch.Eager.Count < batch.EagerSlots && spec.TaskQueue == row.TaskQueue
            && (batch.EagerTypes is null || batch.EagerTypes.Contains(spec.Name));
        var (id, inserted) = await ScheduleActivityCoreAsync(tx, row, spec, wake: !eager);
        if (!eager || !inserted) return;
        // Handed over under the workflow task's lease: bound the same way.
        if (await ClaimScheduledActivityAsync(tx, id, spec.TaskQueue, PriorityOf(row, spec), batch.WorkerId, row.LeaseBound) is { } claimed)
            batch.Eager.Add(claimed);
        else
            tx.Wakes.Add(new Wake(WakeKind.Activity, spec.TaskQueue, tx.Now)); // higher priorities or the rate limit first: a poller takes it
    }

    async Task ApplyCommandAsync(Tx tx, WfRow row, WorkflowCommand command, BatchState batch)
    {
        if (command is not (RecordSnapshotCommand or UpsertSearchAttributesCommand or RecordPatchMarkerCommand)) batch.OnlyBookkeeping = false;
        switch (command)
        {
            case ScheduleActivityCommand c:
                // After a cancel request nothing new may start (the replay that produced this raced the request).
                if (!row.CancelRequested) await ScheduleFromCommandAsync(tx, row, c.Spec, batch);
                break;

            case ScheduleTimerCommand c:
                if (!row.CancelRequested) await ScheduleTimerAsync(tx, row, c);
                break;

            case RecordSideEffectCommand c:
                var recorded = await tx.ExecAsync(
                    "INSERT INTO workflow_side_effects (workflow_id, seq) VALUES (@id, @seq) ON CONFLICT (workflow_id, seq) DO NOTHING",
                    ("@id", row.Id), ("@seq", c.Seq));
                if (recorded == 0) break; // idempotent on seq: the first recorded value wins
                await AppendEventAsync(tx, row, EventType.SideEffectRecorded, JsonText.Build(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("side_effect_seq", c.Seq);
                    w.WriteString("name", c.Name);
                    w.WriteRawOrNull("value", c.Value);
                    w.WriteEndObject();
                }));
                batch.Redispatch = true; // the worker continues with the recorded value
                break;

            case RecordPatchMarkerCommand c:
                await RecordPatchMarkerAsync(tx, row, c);
                break;

            case StartChildWorkflowCommand c:
                if (!row.CancelRequested) await StartChildAsync(tx, row, c);
                break;

            case UpsertSearchAttributesCommand c:
                var merged = JsonText.MergeObjects(row.SearchAttributes, c.Patch);
                if (row.SearchAttributes is not null && JsonText.SameValue(merged, row.SearchAttributes)) break;
                row.SearchAttributes = merged;
                row.Dirty = true;
                batch.SearchAttributesChanged = true;
                await AppendEventAsync(tx, row, EventType.SearchAttributesUpserted, JsonText.Build(w =>
                {
                    w.WriteStartObject();
                    w.WritePropertyName("patch");
                    w.WriteStartObject();
                    foreach (var (k, v) in c.Patch) { w.WritePropertyName(k); w.WriteRawValue(v, true); }
                    w.WriteEndObject();
                    w.WriteEndObject();
                }));
                break;

            case RecordSnapshotCommand c:
                await tx.ExecAsync(
                    """
                    INSERT INTO workflow_snapshots (workflow_id, event_seq, state_json, created_at) VALUES (@id, @seq, @state, @now)
                    ON CONFLICT (workflow_id, event_seq) DO UPDATE SET state_json = excluded.state_json, created_at = excluded.created_at
                    """,
                    ("@id", row.Id), ("@seq", row.NextEventSeq - 1), ("@state", c.State), ("@now", tx.Now));
                break;

            case WaitForSignalCommand c:
                await AppendEventAsync(tx, row, EventType.WorkflowAwaitingSignal,
                    JsonText.Build(w => { w.WriteStartObject(); w.WriteString("signal", c.Name); w.WriteEndObject(); }));
                break;

            case ContinueAsNewCommand c:
                await ContinueAsNewCoreAsync(tx, row, c.Input);
                break;

            case CompleteWorkflowCommand c:
                await FinishAsync(tx, row, WorkflowStatus.Completed, c.Result, null, EventType.WorkflowCompleted,
                    c.Result, ParentNotice.Completed);
                break;

            case FailWorkflowCommand c:
                await FinishAsync(tx, row, WorkflowStatus.Failed, null, c.Error, EventType.WorkflowFailed,
                    JsonText.Build(w => { w.WriteStartObject(); w.WriteString("error", c.Error); w.WriteEndObject(); }),
                    ParentNotice.Failed);
                break;

            case CancelWorkflowCommand:
                await FinishAsync(tx, row, WorkflowStatus.Cancelled, null, null, EventType.WorkflowCancelled, null,
                    ParentNotice.Failed, parentError: "child workflow cancelled", reason: "cancelled");
                break;

            default:
                throw EngineException.Invalid($"unsupported command {command.GetType().Name}");
        }
    }

    /// <summary>Records <c>PatchMarkerRecorded</c> once per patch id (a repeat from a raced replay is a no-op). The marker
    /// is bookkeeping: the code that asked for it goes on in the same task, so nothing is re-dispatched for it.</summary>
    async Task RecordPatchMarkerAsync(Tx tx, WfRow row, RecordPatchMarkerCommand c)
    {
        var recorded = await tx.QueryAsync("SELECT payload FROM workflow_events WHERE workflow_id = @id AND event_type = @type",
            r => r.StrN("payload"), ("@id", row.Id), ("@type", EventType.PatchMarkerRecorded));
        if (recorded.Any(p => JsonText.StringField(p, "patch_id") == c.PatchId)) return;
        await AppendEventAsync(tx, row, EventType.PatchMarkerRecorded, JsonText.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("patch_id", c.PatchId);
            w.WriteBoolean("deprecated", c.Deprecated);
            w.WriteEndObject();
        }));
    }

    async Task StartChildAsync(Tx tx, WfRow parent, StartChildWorkflowCommand c)
    {
        var child = await CreateWorkflowAsync(tx, c.WorkflowId, parent.Namespace, c.WorkflowType, c.TaskQueue, c.Input,
            searchAttributes: null, parentId: parent.Id, originId: null, continuedFrom: null, c.Priority ?? parent.Priority);
        if (child is null)
        {
            var existingParent = await tx.ScalarAsync("SELECT parent_id FROM workflows WHERE id = @id", ("@id", c.WorkflowId)) as string;
            if (existingParent == parent.Id) return; // our own child, started by an earlier replay
            // Someone else's workflow holds the id: fail the start visibly instead of waiting forever.
            await AppendEventAsync(tx, parent, EventType.ChildWorkflowFailed, JsonText.Build(w =>
            {
                w.WriteStartObject();
                w.WriteString("child_workflow_id", c.WorkflowId);
                w.WriteString("error", $"cannot start child workflow: id {c.WorkflowId} is already in use");
                w.WriteString("reason", "already_exists");
                w.WriteEndObject();
            }));
            MarkDispatchable(tx, parent);
            return;
        }
        await AppendEventAsync(tx, parent, EventType.ChildWorkflowStarted, JsonText.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("child_workflow_id", c.WorkflowId);
            w.WriteString("workflow_type", c.WorkflowType);
            w.WriteEndObject();
        }));
    }

    public Task RejectWorkflowTaskAsync(string workflowId, string workerId, string? leaseToken, string error) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) return;
        RequireLease(row, workerId, leaseToken);
        // Recorded for operators; not re-dispatched (the same replay would fail the same way) until something new happens.
        await AppendEventAsync(tx, row, EventType.WorkflowTaskFailed, JsonText.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("error", error);
            w.WriteString("worker_id", workerId);
            w.WriteEndObject();
        }));
        row.ClearLease();
        if (row.NeedsDispatch) tx.Wakes.Add(new Wake(WakeKind.WorkflowTask, row.TaskQueue));
    });

    public Task<double> ExtendLeaseAsync(string workflowId, string workerId, string? leaseToken, double leaseSecs) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        RequireLease(row, workerId, leaseToken);
        row.LeaseExpiresAt = tx.Now + leaseSecs;
        row.Dirty = true;
        return row.LeaseExpiresAt.Value;
    });

    public Task<int> RecoverExpiredLeasesAsync() => WriteAsync(async tx =>
    {
        // The worker holding these leases is gone or too slow: hand the workflow to the next poller.
        var queues = await tx.QueryAsync(
            """
            UPDATE workflows SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, needs_dispatch = 1,
                dispatch_ready_at = COALESCE(dispatch_ready_at, @now)
            WHERE lease_owner IS NOT NULL AND lease_expires_at <= @now AND status IN ('PENDING', 'RUNNING')
            RETURNING task_queue
            """, x => x.Str("task_queue"), ("@now", tx.Now));
        foreach (var q in queues) tx.Wakes.Add(new Wake(WakeKind.WorkflowTask, q));
        return queues.Count;
    });

    public Task ReleaseWorkflowTaskAsync(string workflowId, string workerId, string leaseToken, TaskRelease release) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        RequireLease(row, workerId, leaseToken);
        row.ClearLease();
        row.NeedsDispatch = true;
        row.DispatchReadyAt ??= tx.Now;
        await tx.ExecAsync("DELETE FROM workflow_task_releases WHERE until_at <= @now", ("@now", tx.Now));
        if (release.BackoffSecs > 0)
            await tx.ExecAsync(
                """
                INSERT INTO workflow_task_releases (workflow_id, worker_id, until_at) VALUES (@id, @worker, @until)
                ON CONFLICT (workflow_id, worker_id) DO UPDATE SET until_at = excluded.until_at
                """, ("@id", workflowId), ("@worker", workerId), ("@until", tx.Now + release.BackoffSecs));
        if (release.Unhandled) await NoteUnhandledAsync(tx, row, "workflow", row.WorkflowType, row.TaskQueue, workerId);
        tx.Wakes.Add(new Wake(WakeKind.WorkflowTaskReleased, row.TaskQueue));
    });

    /// <summary>Claim filter: not a task this worker handed back and is still backing off from (alias <c>c</c>).</summary>
    const string NotReleasedByWorkflowWorker =
        "NOT EXISTS (SELECT 1 FROM workflow_task_releases r WHERE r.workflow_id = c.id AND r.worker_id = @worker AND r.until_at > @now)";
}
