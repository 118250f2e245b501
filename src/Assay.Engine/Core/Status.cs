namespace Assay.Engine.Core;

/// <summary>Workflow status strings as they appear on the wire (docs/engine.md "Concepts").</summary>
public static class WorkflowStatus
{
    public const string Pending = "PENDING";
    public const string Running = "RUNNING";
    public const string Waiting = "WAITING";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
    public const string Cancelled = "CANCELLED";
    public const string TimedOut = "TIMED_OUT";

    public static readonly string[] All = [Pending, Running, Waiting, Completed, Failed, Cancelled, TimedOut];

    public static bool IsTerminal(string status) =>
        status is Completed or Failed or Cancelled or TimedOut;
}

/// <summary>Activity status strings.</summary>
public static class ActivityStatus
{
    public const string Pending = "PENDING";
    public const string Running = "RUNNING";
    public const string Completed = "COMPLETED";
    public const string Failed = "FAILED";
    public const string Cancelled = "CANCELLED";
}

/// <summary>Event type names (docs/engine.md "Event catalogue"), plus the terminal/marker events our engine adds.</summary>
public static class EventType
{
    public const string WorkflowStarted = "WorkflowStarted";
    public const string ActivityScheduled = "ActivityScheduled";
    public const string ActivityCompleted = "ActivityCompleted";
    public const string ActivityFailed = "ActivityFailed";
    public const string TimerScheduled = "TimerScheduled";
    public const string TimerFired = "TimerFired";
    public const string SignalReceived = "SignalReceived";
    public const string WorkflowAwaitingSignal = "WorkflowAwaitingSignal";
    public const string SideEffectRecorded = "SideEffectRecorded";
    public const string ChildWorkflowStarted = "ChildWorkflowStarted";
    public const string ChildWorkflowCompleted = "ChildWorkflowCompleted";
    public const string ChildWorkflowFailed = "ChildWorkflowFailed";
    public const string WorkflowCancelRequested = "WorkflowCancelRequested";
    public const string WorkflowCancelled = "WorkflowCancelled";
    public const string WorkflowCompleted = "WorkflowCompleted";
    public const string WorkflowFailed = "WorkflowFailed";
    // Added by this engine (the reference closes these runs silently).
    public const string WorkflowTerminated = "WorkflowTerminated";
    public const string WorkflowContinuedAsNew = "WorkflowContinuedAsNew";
    public const string SearchAttributesUpserted = "SearchAttributesUpserted";
    public const string WorkflowTaskFailed = "WorkflowTaskFailed";
    public const string PatchMarkerRecorded = "PatchMarkerRecorded";
}
