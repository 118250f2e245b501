namespace Assay.Engine.Core;

// Validated inputs handed from the API layer to the store. JSON-valued fields are JSON text.

public sealed record StartWorkflowRequest(
    string WorkflowId,
    string WorkflowType,
    string Namespace,
    string TaskQueue,
    string? Input,
    string? SearchAttributes,
    bool IdempotentReuse,
    int Priority = Priorities.Default);

/// <summary>Dispatch priorities of workflows and activities (docs/engine.md "Priorities and rate limits"): 1 is taken
/// first, 5 last; FIFO within one priority. What a workflow schedules inherits its priority unless it sets one.</summary>
public static class Priorities
{
    public const int Highest = 1;
    public const int Lowest = 5;
    public const int Default = 3;
}

/// <summary>Options of one activity; defaults follow the original engine (docs/engine.md "Activities: retries and timeouts").</summary>
public sealed record ActivitySpec(
    long Seq,
    string Name,
    string TaskQueue,
    string? Input,
    long MaxAttempts = 3,
    double InitialIntervalSecs = 1.0,
    double BackoffCoefficient = 2.0,
    double? MaxIntervalSecs = null,
    double StartToCloseSecs = 300,
    double? HeartbeatTimeoutSecs = null,
    IReadOnlyList<string>? NonRetryableErrorTypes = null,
    int? Priority = null); // null: the workflow's priority

public sealed record WorkflowFilter(
    string Namespace,
    string? Status,
    string? Type,
    IReadOnlyList<KeyValuePair<string, string>> SearchAttributes, // key -> JSON text of the expected value
    int Limit,
    int Offset);

/// <summary>Who claims to own an activity attempt. The lease token is required for a lease-bound claim; otherwise
/// unset fields are not checked (the seed client sends none).</summary>
public sealed record AttemptCheck(string? WorkerId, long? Attempt, string? LeaseToken = null);

/// <summary>An activity report that asks for the workflow task it creates (docs/engine.md "Eager workflow tasks"): when the
/// outcome makes the workflow ready for a replay, the task is claimed for <paramref name="WorkerId"/> (lease of
/// <paramref name="LeaseSecs"/>) in the same transaction — provided the workflow is on the activity's queue, of one of
/// <paramref name="Types"/> when given (null = any), and no workflow task of higher priority waits on that queue.</summary>
public sealed record EagerWorkflowTask(string WorkerId, double LeaseSecs, IReadOnlyList<string>? Types);

/// <summary>How a worker hands a claimed task back: <paramref name="BackoffSecs"/> &gt; 0 keeps the task from being offered to
/// the same worker for that long (others get it at once); <paramref name="Unhandled"/> records that the worker lacks the
/// task's type (visible on the workflow until a worker makes progress on it).</summary>
public sealed record TaskRelease(double BackoffSecs, bool Unhandled)
{
    /// <summary>Longest backoff a release may ask for.</summary>
    public const double MaxBackoffSecs = 300;
    public static readonly TaskRelease Immediate = new(0, false);
}

public sealed record ActivityFailure(string Error, bool NonRetryable, string? ErrorType, string? TimeoutType = null);

public sealed record WorkerRegistration(
    string Identity,
    string Queue,
    string Namespace,
    string? Workflows,
    string? Activities,
    long MaxConcurrentWorkflows,
    long MaxConcurrentActivities);

public sealed record ScheduleCreate(
    string Name,
    string Namespace,
    string WorkflowType,
    string CronExpr,
    string Timezone,
    string? Input,
    string TaskQueue,
    string OverlapPolicy,
    double CatchupWindowSecs = 60);

public sealed record SchedulePatch(
    string? CronExpr,
    string? Timezone,
    string? Input,
    string? TaskQueue,
    string? OverlapPolicy,
    double? CatchupWindowSecs = null);
