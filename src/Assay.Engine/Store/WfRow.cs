
namespace Assay.Engine.Store;

/// <summary>
/// The mutable state of one workflow inside a write transaction. Loaded (and locked) once per
/// transaction, changed in memory, written back once before commit. Keeping the event counter
/// here is what makes <c>seq</c> allocation O(1) and race-free: the row is locked, and the
/// UNIQUE(workflow_id, seq) constraint backs it up.
/// </summary>
internal sealed class WfRow
{
    public const string Columns =
        "id, namespace, run_id, workflow_type, task_queue, status, parent_id, origin_id, search_attributes, " +
        "next_event_seq, needs_dispatch, dispatch_ready_at, lease_owner, lease_token, lease_expires_at, " +
        "cancel_requested, result, error, completed_at, continued_to, unhandled_kind, lease_bound, priority";

    public required string Id;
    public required string Namespace;
    public required string RunId;
    public required string WorkflowType;
    public required string TaskQueue;
    public required string Status;
    /// <summary>Dispatch priority; fixed at creation, inherited by what the workflow schedules unless that sets its own.</summary>
    public required int Priority;
    /// <summary>Status as last written (null for a row created in this transaction): a difference is a status change.</summary>
    public string? SavedStatus;
    public string? ParentId;
    public string? OriginId;        // first run of a continue-as-new chain: the id a parent knows
    public string? SearchAttributes;
    public long NextEventSeq;
    public bool NeedsDispatch;
    public double? DispatchReadyAt;
    public string? LeaseOwner;
    public string? LeaseToken;
    /// <summary>The lease was claimed by a poll that asked for it: reports must carry <see cref="LeaseToken"/>.
    /// Only meaningful while <see cref="LeaseOwner"/> is set (written by a poll's claim, and by flushes for a task an
    /// activity report claimed, see SqlEngineStore.HandOverWorkflowTaskAsync).</summary>
    public bool LeaseBound;
    public double? LeaseExpiresAt;
    public bool CancelRequested;
    public string? Result;
    public string? Error;
    public double? CompletedAt;
    public string? ContinuedTo;
    /// <summary>Kind of the task last handed back for lacking its type (null: none); written by its own statements.</summary>
    public string? UnhandledKind;
    public double UpdatedAt;

    public bool Dirty;
    public bool IsTerminal => Core.WorkflowStatus.IsTerminal(Status);

    public static WfRow Read(Row r) => new()
    {
        Id = r.Str("id"), Namespace = r.Str("namespace"), RunId = r.Str("run_id"), WorkflowType = r.Str("workflow_type"),
        TaskQueue = r.Str("task_queue"), Status = r.Str("status"), SavedStatus = r.Str("status"), ParentId = r.StrN("parent_id"),
        OriginId = r.StrN("origin_id"), SearchAttributes = r.StrN("search_attributes"), NextEventSeq = r.Long("next_event_seq"),
        NeedsDispatch = r.Bool("needs_dispatch"), DispatchReadyAt = r.DblN("dispatch_ready_at"), LeaseOwner = r.StrN("lease_owner"),
        LeaseToken = r.StrN("lease_token"), LeaseExpiresAt = r.DblN("lease_expires_at"), CancelRequested = r.Bool("cancel_requested"),
        Result = r.StrN("result"), Error = r.StrN("error"), CompletedAt = r.DblN("completed_at"), ContinuedTo = r.StrN("continued_to"),
        UnhandledKind = r.StrN("unhandled_kind"), LeaseBound = r.Bool("lease_bound"),
        Priority = (int)r.Long("priority"),
    };

    public void ClearLease()
    {
        LeaseOwner = null;
        LeaseToken = null;
        LeaseExpiresAt = null;
        Dirty = true;
    }
}
