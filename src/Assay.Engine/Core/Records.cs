using System.Text.Json.Serialization;

namespace Assay.Engine.Core;

// Wire records (docs/engine.md "REST API"). Columns that hold JSON are kept as JSON *text* and serialised as
// strings, exactly like the reference, so existing clients decode them the same way.

public sealed class WorkflowRecord
{
    public required string Id { get; init; }
    public required string Namespace { get; init; }
    public required string RunId { get; init; }
    public required string WorkflowType { get; init; }
    public required string TaskQueue { get; init; }
    public required string Status { get; init; }
    /// <summary>Dispatch priority, 1 (highest) … 5 (lowest).</summary>
    public int Priority { get; init; } = Priorities.Default;
    public string? Input { get; init; }
    public string? Result { get; init; }
    public string? Error { get; init; }
    public string? ParentId { get; init; }
    public string? ClaimedBy { get; init; }
    public string? SearchAttributes { get; init; }
    public double? ArchivedAt { get; init; }
    public string? ArchiveUri { get; init; }
    public double CreatedAt { get; init; }
    public double UpdatedAt { get; init; }
    public double? CompletedAt { get; init; }
    /// <summary>Run this one continued (continue-as-new link), if any.</summary>
    public string? ContinuedFrom { get; init; }
    /// <summary>Run that continued this one, if any.</summary>
    public string? ContinuedTo { get; init; }
    /// <summary>Set while a task of this workflow was last handed back by a worker lacking its type (see
    /// <see cref="UnhandledTask"/>); cleared when a worker makes progress on the workflow.</summary>
    public UnhandledTask? Unhandled { get; init; }
    /// <summary>True while a task of this workflow waits on a type no live worker serves (<see cref="Unserved"/>).</summary>
    public bool NoWorkerForType => Unserved is { Count: > 0 };
    /// <summary>The waiting tasks of this workflow whose type no live worker on their queue registered (type-aware
    /// dispatch: they stay pending until such a worker arrives). Empty when served, null for a finished workflow.</summary>
    public IReadOnlyList<UnservedTask>? Unserved { get; set; }
}

/// <summary>A waiting task whose type no live worker serves: "workflow" (a workflow task of the workflow type) or
/// "activity" (a pending activity of that name), on its task queue.</summary>
public sealed class UnservedTask
{
    public required string Kind { get; init; }
    public required string Name { get; init; }
    public required string TaskQueue { get; init; }
}

/// <summary>Waiting tasks of one type on one queue that no live worker serves (the /metrics gauge).</summary>
public sealed record UnservedCount(string Namespace, string Kind, string TaskQueue, string Name, long Count);

/// <summary>A workflow or activity task a worker released because it does not define the type: until a worker
/// that has it polls the queue, the workflow waits. Shown by describe and the dashboard.</summary>
public sealed class UnhandledTask
{
    /// <summary>"workflow" (the workflow type) or "activity" (an activity name).</summary>
    public required string Kind { get; init; }
    public required string Name { get; init; }
    public required string TaskQueue { get; init; }
    /// <summary>The worker that last handed it back, and when.</summary>
    public required string WorkerId { get; init; }
    public double At { get; init; }
}

public sealed class EventRecord
{
    public long Id { get; init; }
    public required string WorkflowId { get; init; }
    public long Seq { get; init; }
    public required string EventType { get; init; }
    public string? Payload { get; init; }
    public double Timestamp { get; init; }
}

public sealed class ActivityRecord
{
    public long Id { get; init; }
    public required string WorkflowId { get; init; }
    public long Seq { get; init; }
    public required string Name { get; init; }
    public required string TaskQueue { get; init; }
    public string? Input { get; init; }
    public required string Status { get; init; }
    /// <summary>Dispatch priority, 1 (highest) … 5 (lowest); inherited from the workflow unless scheduled with one.</summary>
    public int Priority { get; init; } = Priorities.Default;
    public string? Result { get; init; }
    public string? Error { get; init; }
    public long Attempt { get; init; }
    public long MaxAttempts { get; init; }
    public double InitialIntervalSecs { get; init; }
    public double BackoffCoefficient { get; init; }
    public double? MaxIntervalSecs { get; init; }
    public double StartToCloseSecs { get; init; }
    public double? HeartbeatTimeoutSecs { get; init; }
    public string? ClaimedBy { get; init; }
    public double ScheduledAt { get; init; }
    public double? StartedAt { get; init; }
    public double? CompletedAt { get; init; }
    public double? LastHeartbeat { get; init; }
    /// <summary>Set only in the answer to the claimant (poll, eager dispatch); never stored in or read from a listing.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? LeaseToken { get; set; }
}

public sealed class WorkerRecord
{
    public required string Id { get; init; }
    public required string Namespace { get; init; }
    public required string Identity { get; init; }
    public required string TaskQueue { get; init; }
    public string? Workflows { get; init; }
    public string? Activities { get; init; }
    public long MaxConcurrentWorkflows { get; init; }
    public long MaxConcurrentActivities { get; init; }
    public long ActiveTasks { get; init; }
    public double LastHeartbeat { get; init; }
    public double RegisteredAt { get; init; }
}

public sealed record ScheduleRecord
{
    public required string Name { get; init; }
    public required string Namespace { get; init; }
    public required string WorkflowType { get; init; }
    public required string CronExpr { get; init; }
    public required string Timezone { get; init; }
    public string? Input { get; init; }
    public required string TaskQueue { get; init; }
    public required string OverlapPolicy { get; init; }
    public bool Paused { get; init; }
    public double? LastRunAt { get; init; }
    public double? NextRunAt { get; init; }
    public string? LastWorkflowId { get; init; }
    public double CreatedAt { get; init; }
    /// <summary>Missed occurrences (engine down) newer than this run once; older ones are skipped. 0 = skip all.</summary>
    public double CatchupWindowSecs { get; init; } = 60;
    /// <summary>Occurrences waiting for the running one to finish (buffer_one/buffer_all).</summary>
    public long BufferedRuns { get; init; }
    /// <summary>Scheduled times of buffered occurrences, as a JSON array (internal).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Buffered { get; init; }
}

/// <summary>Outcome of firing one occurrence (trigger, backfill).</summary>
public sealed record ScheduleFireResult
{
    /// <summary>started, skipped, buffered or exists (an earlier fire of the same occurrence).</summary>
    public required string Outcome { get; init; }
    public string? WorkflowId { get; init; }
    public double ScheduledAt { get; init; }
}

public sealed class NamespaceRecord
{
    public required string Name { get; init; }
    public double CreatedAt { get; init; }
    /// <summary>Terminal workflows older than this (seconds since completion) are archived and purged; null = kept forever.</summary>
    public double? RetentionSecs { get; init; }
}

public sealed class NamespaceStats
{
    public required string Namespace { get; init; }
    public long TotalWorkflows { get; init; }
    public long Running { get; init; }
    public long Pending { get; init; }
    public long Completed { get; init; }
    public long Failed { get; init; }
    public long Cancelled { get; init; }
    public long Schedules { get; init; }
    public long Workers { get; init; }
}

public sealed class QueueStats
{
    public required string Queue { get; init; }
    public long PendingActivities { get; init; }
    public long RunningActivities { get; init; }
    public long Workers { get; init; }
    /// <summary>Workflows on this queue waiting for a worker to take their workflow task.</summary>
    public long PendingWorkflowTasks { get; init; }
    /// <summary>The queue's activity rate limit (see <see cref="QueueSettings"/>); null = none.</summary>
    public double? MaxActivitiesPerSecond { get; init; }
}

/// <summary>Settings of a task queue (PUT/GET /queues/{name}). Task queues are addressed by name across namespaces
/// (dispatch does not look at the namespace), so their settings are too.</summary>
public sealed class QueueSettings
{
    public required string Queue { get; init; }
    /// <summary>Activities claimed from the queue per second, by all workers on all engines together (a token bucket
    /// in the database holding up to max(1, this) claims); null = no limit.</summary>
    public double? MaxActivitiesPerSecond { get; init; }
}

public sealed class SnapshotRecord
{
    public string? StateJson { get; init; }
    public long EventSeq { get; init; }
    public double CreatedAt { get; init; }
}

/// <summary>Response of start / continue-as-new.</summary>
public sealed class StartResult
{
    public required string WorkflowId { get; init; }
    public required string RunId { get; init; }
    public required string Status { get; init; }
    /// <summary>True when an idempotent start found the identical workflow already there.</summary>
    [JsonIgnore] public bool Existing { get; init; }
}

/// <summary>A claimed workflow task; history payloads stay JSON text and are embedded parsed on the wire.</summary>
public sealed class WorkflowTask
{
    public required string WorkflowId { get; init; }
    public required string RunId { get; init; }
    public required string Namespace { get; init; }
    public required string WorkflowType { get; init; }
    public required string TaskQueue { get; init; }
    public string? Input { get; init; }
    public required string LeaseToken { get; init; }
    public double LeaseExpiresAt { get; init; }
    public required IReadOnlyList<EventRecord> History { get; init; }
}

public sealed record ApiKeyRecord
{
    public required string Prefix { get; init; }
    public string? Label { get; init; }
    public double CreatedAt { get; init; }
    public double? RevokedAt { get; init; }
    /// <summary>The plaintext key: only in the answer to its creation, never stored.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Key { get; init; }
}

/// <summary>A workflow status change, announced on the event stream.</summary>
public sealed record StatusChange(string WorkflowId, string Namespace, string WorkflowType, string Status, double Timestamp);

/// <summary>An event as the live stream carries it.</summary>
public sealed record StreamEvent
{
    public long Id { get; init; }
    public required string WorkflowId { get; init; }
    public required string Namespace { get; init; }
    public required string WorkflowType { get; init; }
    public long Seq { get; init; }
    public required string EventType { get; init; }
    /// <summary>The stored JSON text, sent as a JSON value (parsed on the client's side, unlike /events).</summary>
    [JsonConverter(typeof(EmbeddedJsonConverter))]
    public string? Payload { get; init; }
    public double Timestamp { get; init; }
    /// <summary>The workflow's status when the event was read.</summary>
    public required string Status { get; init; }
}
