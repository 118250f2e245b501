namespace Assay.Engine.Store;

/// <summary>
/// One mapping per record read from the database: the column list a SELECT (or RETURNING) uses, and the reader that
/// builds the record from those columns by name. Queries of a record always go through its pair here.
/// </summary>
internal static class RecordMaps
{
    /// <summary>Columns of <see cref="WorkflowRecord"/>, for a query that aliases <c>workflows</c> as <c>w</c>.</summary>
    public const string WorkflowColumns =
        "w.id, w.namespace, w.run_id, w.workflow_type, w.task_queue, w.status, w.priority, w.input, w.result, w.error, w.parent_id, " +
        "w.claimed_by, w.search_attributes, w.archived_at, w.archive_uri, w.created_at, w.updated_at, w.completed_at, " +
        "w.continued_from, w.continued_to, w.unhandled_kind, w.unhandled_name, w.unhandled_queue, w.unhandled_by, w.unhandled_at";

    public static WorkflowRecord Workflow(Row r) => new()
    {
        Id = r.Str("id"), Namespace = r.Str("namespace"), RunId = r.Str("run_id"), WorkflowType = r.Str("workflow_type"),
        TaskQueue = r.Str("task_queue"), Status = r.Str("status"), Priority = (int)r.Long("priority"), Input = r.StrN("input"),
        Result = r.StrN("result"), Error = r.StrN("error"), ParentId = r.StrN("parent_id"), ClaimedBy = r.StrN("claimed_by"),
        SearchAttributes = r.StrN("search_attributes"), ArchivedAt = r.DblN("archived_at"), ArchiveUri = r.StrN("archive_uri"),
        CreatedAt = r.Dbl("created_at"), UpdatedAt = r.Dbl("updated_at"), CompletedAt = r.DblN("completed_at"),
        ContinuedFrom = r.StrN("continued_from"), ContinuedTo = r.StrN("continued_to"), Unhandled = Unhandled(r),
    };

    static UnhandledTask? Unhandled(Row r) => r.IsNull("unhandled_kind") ? null : new()
    {
        Kind = r.Str("unhandled_kind"), Name = r.Str("unhandled_name"), TaskQueue = r.Str("unhandled_queue"),
        WorkerId = r.Str("unhandled_by"), At = r.Dbl("unhandled_at"),
    };

    public const string EventColumns = "id, workflow_id, seq, event_type, payload, timestamp";

    public static EventRecord Event(Row r) => new()
    {
        Id = r.Long("id"), WorkflowId = r.Str("workflow_id"), Seq = r.Long("seq"), EventType = r.Str("event_type"),
        Payload = r.StrN("payload"), Timestamp = r.Dbl("timestamp"),
    };

    /// <summary>Columns of <see cref="StreamEvent"/>: an event joined (<c>e</c>) with its workflow (<c>w</c>).</summary>
    public const string StreamEventColumns =
        "e.id, e.workflow_id, w.namespace, w.workflow_type, e.seq, e.event_type, e.payload, e.timestamp, w.status";

    public static StreamEvent StreamEvent(Row r) => new()
    {
        Id = r.Long("id"), WorkflowId = r.Str("workflow_id"), Namespace = r.Str("namespace"), WorkflowType = r.Str("workflow_type"),
        Seq = r.Long("seq"), EventType = r.Str("event_type"), Payload = r.StrN("payload"), Timestamp = r.Dbl("timestamp"),
        Status = r.Str("status"),
    };

    public const string ActivityColumns =
        "id, workflow_id, seq, name, task_queue, input, status, priority, result, error, attempt, max_attempts, " +
        "initial_interval_secs, backoff_coefficient, max_interval_secs, start_to_close_secs, heartbeat_timeout_secs, " +
        "claimed_by, scheduled_at, started_at, completed_at, last_heartbeat";

    public static ActivityRecord Activity(Row r) => new()
    {
        Id = r.Long("id"), WorkflowId = r.Str("workflow_id"), Seq = r.Long("seq"), Name = r.Str("name"), TaskQueue = r.Str("task_queue"),
        Input = r.StrN("input"), Status = r.Str("status"), Priority = (int)r.Long("priority"), Result = r.StrN("result"), Error = r.StrN("error"), Attempt = r.Long("attempt"),
        MaxAttempts = r.Long("max_attempts"), InitialIntervalSecs = r.Dbl("initial_interval_secs"),
        BackoffCoefficient = r.Dbl("backoff_coefficient"), MaxIntervalSecs = r.DblN("max_interval_secs"),
        StartToCloseSecs = r.Dbl("start_to_close_secs"), HeartbeatTimeoutSecs = r.DblN("heartbeat_timeout_secs"),
        ClaimedBy = r.StrN("claimed_by"), ScheduledAt = r.Dbl("scheduled_at"), StartedAt = r.DblN("started_at"),
        CompletedAt = r.DblN("completed_at"), LastHeartbeat = r.DblN("last_heartbeat"),
    };

    public const string ScheduleColumns =
        "name, namespace, workflow_type, cron_expr, timezone, input, task_queue, overlap_policy, paused, last_run_at, " +
        "next_run_at, last_workflow_id, created_at, catchup_window_secs, buffered";

    /// <param name="countBuffered">Occurrences in the stored <c>buffered</c> JSON (the schedule store owns that format).</param>
    public static ScheduleRecord Schedule(Row r, Func<string?, long> countBuffered) => new()
    {
        Name = r.Str("name"), Namespace = r.Str("namespace"), WorkflowType = r.Str("workflow_type"), CronExpr = r.Str("cron_expr"),
        Timezone = r.Str("timezone"), Input = r.StrN("input"), TaskQueue = r.Str("task_queue"), OverlapPolicy = r.Str("overlap_policy"),
        Paused = r.Bool("paused"), LastRunAt = r.DblN("last_run_at"), NextRunAt = r.DblN("next_run_at"),
        LastWorkflowId = r.StrN("last_workflow_id"), CreatedAt = r.Dbl("created_at"), CatchupWindowSecs = r.Dbl("catchup_window_secs"),
        Buffered = r.StrN("buffered"), BufferedRuns = countBuffered(r.StrN("buffered")),
    };

    public const string WorkerColumns =
        "id, namespace, identity, task_queue, workflows, activities, max_concurrent_workflows, max_concurrent_activities, " +
        "active_tasks, last_heartbeat, registered_at";

    public static WorkerRecord Worker(Row r) => new()
    {
        Id = r.Str("id"), Namespace = r.Str("namespace"), Identity = r.Str("identity"), TaskQueue = r.Str("task_queue"),
        Workflows = r.StrN("workflows"), Activities = r.StrN("activities"), MaxConcurrentWorkflows = r.Long("max_concurrent_workflows"),
        MaxConcurrentActivities = r.Long("max_concurrent_activities"), ActiveTasks = r.Long("active_tasks"),
        LastHeartbeat = r.Dbl("last_heartbeat"), RegisteredAt = r.Dbl("registered_at"),
    };

    public const string NamespaceColumns = "name, created_at, retention_secs";

    public static NamespaceRecord Namespace(Row r) => new()
    {
        Name = r.Str("name"), CreatedAt = r.Dbl("created_at"), RetentionSecs = r.DblN("retention_secs"),
    };

    public const string ApiKeyColumns = "prefix, label, created_at, revoked_at";

    public static ApiKeyRecord ApiKey(Row r) => new()
    {
        Prefix = r.Str("prefix"), Label = r.StrN("label"), CreatedAt = r.Dbl("created_at"), RevokedAt = r.DblN("revoked_at"),
    };

    public const string SnapshotColumns = "state_json, event_seq, created_at";

    public static SnapshotRecord Snapshot(Row r) => new()
    {
        StateJson = r.StrN("state_json"), EventSeq = r.Long("event_seq"), CreatedAt = r.Dbl("created_at"),
    };
}
