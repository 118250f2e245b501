namespace Assay.Engine.Store;

// IWorkflowStore: workflow lifecycle operations called from outside a workflow task (start, signal, cancel,
// terminate, continue-as-new) and the read side.
internal abstract partial class SqlEngineStore
{
    public Task<StartResult> StartWorkflowAsync(StartWorkflowRequest r) => WriteAsync(async tx =>
    {
        await RequireNamespaceAsync(tx, r.Namespace);
        var row = await CreateWorkflowAsync(tx, r.WorkflowId, r.Namespace, r.WorkflowType, r.TaskQueue, r.Input,
            r.SearchAttributes, parentId: null, originId: null, continuedFrom: null, r.Priority);
        if (row is not null)
            return new StartResult { WorkflowId = row.Id, RunId = row.RunId, Status = row.Status };

        // The id is taken. An idempotent start of the very same workflow returns it; anything else conflicts.
        var existing = (await tx.QueryAsync("SELECT workflow_type, input, run_id, status FROM workflows WHERE id = @id",
            x => (Type: x.Str("workflow_type"), Input: x.StrN("input"), RunId: x.Str("run_id"), Status: x.Str("status")), ("@id", r.WorkflowId)))[0];
        if (r.IdempotentReuse && existing.Type == r.WorkflowType && JsonText.SameValue(existing.Input, r.Input))
            return new StartResult { WorkflowId = r.WorkflowId, RunId = existing.RunId, Status = existing.Status, Existing = true };
        throw EngineException.Conflict($"workflow {r.WorkflowId} already exists");
    });

    public Task<WorkflowRecord?> GetWorkflowAsync(string id) => InReadAsync(async tx =>
    {
        var wf = await tx.QuerySingleAsync($"SELECT {RecordMaps.WorkflowColumns} FROM workflows w WHERE w.id = @id", RecordMaps.Workflow, ("@id", id));
        if (wf is not null) await AnnotateUnservedAsync(tx, [wf]);
        return wf;
    });

    public Task<IReadOnlyList<WorkflowRecord>> ListWorkflowsAsync(WorkflowFilter f) => InReadAsync<IReadOnlyList<WorkflowRecord>>(async tx =>
    {
        await RequireNamespaceAsync(tx, f.Namespace);
        await using var cmd = tx.AdHocCommand();
        var sql = new StringBuilder($"SELECT {RecordMaps.WorkflowColumns} FROM workflows w WHERE w.namespace = @ns");
        Tx.AddParam(cmd, "@ns", f.Namespace);
        if (f.Status is not null) { sql.Append(" AND w.status = @status"); Tx.AddParam(cmd, "@status", f.Status); }
        if (f.Type is not null) { sql.Append(" AND w.workflow_type = @type"); Tx.AddParam(cmd, "@type", f.Type); }
        for (var i = 0; i < f.SearchAttributes.Count; i++)
            D.AppendSearchAttributeMatch(sql, cmd, i, f.SearchAttributes[i].Key, f.SearchAttributes[i].Value);
        sql.Append(" ORDER BY w.created_at DESC, w.id LIMIT @limit OFFSET @offset");
        Tx.AddParam(cmd, "@limit", (long)f.Limit);
        Tx.AddParam(cmd, "@offset", (long)f.Offset);
        cmd.CommandText = sql.ToString();
        var page = await Tx.ReadAllAsync(cmd, RecordMaps.Workflow);
        await AnnotateUnservedAsync(tx, page);
        return page;
    });

    public Task<IReadOnlyList<EventRecord>> GetEventsAsync(string workflowId, long afterSeq = 0) => InReadAsync<IReadOnlyList<EventRecord>>(async tx =>
    {
        await RequireWorkflowExistsAsync(tx, workflowId);
        return await tx.QueryAsync($"SELECT {RecordMaps.EventColumns} FROM workflow_events WHERE workflow_id = @id AND seq > @after ORDER BY seq",
            RecordMaps.Event, ("@id", workflowId), ("@after", afterSeq));
    });

    public Task<IReadOnlyList<WorkflowRecord>> ListChildrenAsync(string workflowId) => InReadAsync<IReadOnlyList<WorkflowRecord>>(async tx =>
    {
        await RequireWorkflowExistsAsync(tx, workflowId);
        return await tx.QueryAsync($"SELECT {RecordMaps.WorkflowColumns} FROM workflows w WHERE w.parent_id = @id ORDER BY w.created_at, w.id",
            RecordMaps.Workflow, ("@id", workflowId));
    });

    public Task SignalAsync(string workflowId, string name, string? payload) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        await tx.ExecAsync("INSERT INTO workflow_signals (workflow_id, name, payload, consumed, received_at) VALUES (@id, @name, @payload, 0, @now)",
            ("@id", workflowId), ("@name", name), ("@payload", payload), ("@now", tx.Now));
        // Delivery is through history: the N-th wait_for_signal(name) takes the N-th SignalReceived(name).
        await AppendEventAsync(tx, row, EventType.SignalReceived, JsonText.Build(w =>
        {
            w.WriteStartObject();
            w.WriteString("signal", name);
            w.WriteRawOrNull("payload", payload);
            w.WriteEndObject();
        }));
        MarkDispatchable(tx, row);
    });

    public Task CancelAsync(string workflowId) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        await RequestCancelAsync(tx, row);
    });

    /// <summary>
    /// Cooperative cancel: stop pending work, record the request, let the workflow code finish
    /// (the worker answers with CancelWorkflow). A workflow no worker has started yet is cancelled
    /// at once. Children are cancelled the same way.
    /// </summary>
    async Task RequestCancelAsync(Tx tx, WfRow row)
    {
        if (row.CancelRequested) return; // a second request changes nothing
        await CancelPendingWorkAsync(tx, row);
        row.CancelRequested = true;
        await AppendEventAsync(tx, row, EventType.WorkflowCancelRequested, null);

        var children = await tx.QueryAsync("SELECT id FROM workflows WHERE parent_id = @id AND status IN ('PENDING', 'RUNNING') ORDER BY id",
            x => x.Str("id"), ("@id", row.Id));
        foreach (var childId in children)
            if (await LoadAsync(tx, childId) is { IsTerminal: false } child)
                await RequestCancelAsync(tx, child);

        if (row.Status == WorkflowStatus.Pending)
            await FinishAsync(tx, row, WorkflowStatus.Cancelled, null, null, EventType.WorkflowCancelled, null,
                ParentNotice.Failed, parentError: "child workflow cancelled", reason: "cancelled");
        else
            MarkDispatchable(tx, row);
    }

    public Task TerminateAsync(string workflowId, string? reason, bool terminateChildren) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        await TerminateCoreAsync(tx, row, reason ?? "terminated", terminateChildren);
    });

    /// <summary>Immediate stop: FAILED with a WorkflowTerminated event, work cancelled, parent told, children stopped too.</summary>
    async Task TerminateCoreAsync(Tx tx, WfRow row, string reason, bool terminateChildren)
    {
        await FinishAsync(tx, row, WorkflowStatus.Failed, null, reason, EventType.WorkflowTerminated,
            JsonText.Build(w => { w.WriteStartObject(); w.WriteString("reason", reason); w.WriteEndObject(); }),
            ParentNotice.Failed, parentError: $"child workflow terminated: {reason}", reason: "terminated");
        if (!terminateChildren) return;
        var children = await tx.QueryAsync("SELECT id FROM workflows WHERE parent_id = @id AND status IN ('PENDING', 'RUNNING') ORDER BY id",
            x => x.Str("id"), ("@id", row.Id));
        foreach (var childId in children)
            if (await LoadAsync(tx, childId) is { IsTerminal: false } child)
                await TerminateCoreAsync(tx, child, $"parent {row.Id} terminated", true);
    }

    public Task<StartResult> ContinueAsNewAsync(string workflowId, string? input) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        var next = await ContinueAsNewCoreAsync(tx, row, input);
        return new StartResult { WorkflowId = next.Id, RunId = next.RunId, Status = next.Status };
    });

    /// <summary>
    /// Closes the run (COMPLETED + WorkflowContinuedAsNew) and starts its continuation: same
    /// namespace, type, queue, priority, search attributes and parent, linked both ways. The id keeps the
    /// reference's <c>&lt;id&gt;-continued-&lt;secs&gt;</c> shape, made unique when that is taken.
    /// </summary>
    async Task<WfRow> ContinueAsNewCoreAsync(Tx tx, WfRow row, string? input)
    {
        var baseId = $"{row.Id}-continued-{(long)Math.Floor(tx.Now)}";
        WfRow? next = null;
        for (var n = 1; next is null; n++)
        {
            if (n > 100) throw EngineException.Conflict($"cannot derive a free id for the continuation of {row.Id}");
            var id = n == 1 ? baseId : $"{baseId}-{n}";
            next = await CreateWorkflowAsync(tx, id, row.Namespace, row.WorkflowType, row.TaskQueue, input,
                row.SearchAttributes, row.ParentId, row.OriginId ?? row.Id, continuedFrom: row.Id, row.Priority);
        }
        row.ContinuedTo = next.Id;
        await FinishAsync(tx, row, WorkflowStatus.Completed, null, null, EventType.WorkflowContinuedAsNew,
            JsonText.Build(w =>
            {
                w.WriteStartObject();
                w.WriteString("new_workflow_id", next.Id);
                w.WriteString("new_run_id", next.RunId);
                w.WriteRawOrNull("input", input);
                w.WriteEndObject();
            }),
            ParentNotice.None);
        return next;
    }

    public Task<SnapshotRecord?> GetLatestSnapshotAsync(string workflowId) => InReadAsync(async tx =>
    {
        await RequireWorkflowExistsAsync(tx, workflowId);
        return await tx.QuerySingleAsync(
            $"SELECT {RecordMaps.SnapshotColumns} FROM workflow_snapshots WHERE workflow_id = @id ORDER BY event_seq DESC LIMIT 1",
            RecordMaps.Snapshot, ("@id", workflowId));
    });
}
