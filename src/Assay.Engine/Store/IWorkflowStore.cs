using Assay.Engine.Core;

namespace Assay.Engine.Store;

/// <summary>
/// Durable state of the engine. Every method is one atomic unit: an operation that touches
/// several rows runs in one transaction. Implemented once over ADO.NET
/// (<see cref="SqlWorkflowStore"/>) with SQLite and PostgreSQL backends.
/// Caller mistakes surface as <see cref="EngineException"/>.
/// </summary>
public interface IWorkflowStore : IAsyncDisposable
{
    string BackendName { get; }

    /// <summary>Called with every batch of wake-ups after the transaction that caused them committed
    /// (on PostgreSQL also for work created by other engine instances).</summary>
    IWorkListener? Listener { get; set; }

    Task MigrateAsync(CancellationToken ct = default);

    /// <summary>Fired after every commit that appended events (the event stream re-reads).</summary>
    Pulse EventsAppended { get; }

    /// <summary>Raised after commit for every workflow status change (including creation as PENDING).</summary>
    event Action<StatusChange>? StatusChanged;

    /// <summary>Events with a global id after <paramref name="afterId"/>, oldest first, with their workflow's namespace and status.</summary>
    Task<IReadOnlyList<StreamEvent>> ReadEventStreamAsync(long afterId, string? ns, string? workflowId, int limit);
    Task<long> MaxEventIdAsync();

    /// <summary>Runs until cancelled, relaying work created by other engine instances to <see cref="Listener"/>.</summary>
    Task ListenForRemoteWorkAsync(Action listening, CancellationToken ct);
    Task<int> SchemaVersionAsync();

    // Workflows
    Task<StartResult> StartWorkflowAsync(StartWorkflowRequest request);
    Task<WorkflowRecord?> GetWorkflowAsync(string id);
    Task<IReadOnlyList<WorkflowRecord>> ListWorkflowsAsync(WorkflowFilter filter);
    Task<IReadOnlyList<EventRecord>> GetEventsAsync(string workflowId, long afterSeq = 0);
    Task<IReadOnlyList<WorkflowRecord>> ListChildrenAsync(string workflowId);
    Task SignalAsync(string workflowId, string name, string? payload);
    Task CancelAsync(string workflowId);
    Task TerminateAsync(string workflowId, string? reason, bool terminateChildren);
    Task<StartResult> ContinueAsNewAsync(string workflowId, string? input);
    Task<SnapshotRecord?> GetLatestSnapshotAsync(string workflowId);

    // Workflow tasks
    Task<WorkflowTask?> ClaimWorkflowTaskAsync(string queue, string workerId, double leaseSecs, long afterSeq, bool leaseBound = false);
    /// <summary>Returns the activities claimed for the worker by eager dispatch (empty unless <paramref name="eagerActivities"/> &gt; 0).</summary>
    Task<IReadOnlyList<ActivityRecord>> SubmitCommandsAsync(string workflowId, string workerId, string? leaseToken,
        IReadOnlyList<WorkflowCommand> commands, int eagerActivities = 0);
    Task RejectWorkflowTaskAsync(string workflowId, string workerId, string? leaseToken, string error);
    Task<double> ExtendLeaseAsync(string workflowId, string workerId, string? leaseToken, double leaseSecs);
    /// <summary>Hands a leased workflow task back untouched: dispatchable again at once (see <see cref="TaskRelease"/>).</summary>
    Task ReleaseWorkflowTaskAsync(string workflowId, string workerId, string leaseToken, TaskRelease release);
    Task<int> RecoverExpiredLeasesAsync();

    // Activities
    Task<ActivityRecord> ScheduleActivityAsync(string workflowId, ActivitySpec spec);
    Task<ActivityRecord?> GetActivityAsync(long id);
    Task<ActivityRecord?> ClaimActivityAsync(string queue, string workerId, bool leaseBound = false);
    Task CompleteActivityAsync(long id, AttemptCheck check, string? result);
    /// <summary>Hands a running activity back untouched: PENDING again at once, the attempt not counted (see <see cref="TaskRelease"/>).</summary>
    Task ReleaseActivityAsync(long id, AttemptCheck check, TaskRelease release);
    Task FailActivityAsync(long id, AttemptCheck check, ActivityFailure failure);
    Task<bool> HeartbeatActivityAsync(long id, AttemptCheck check, string? details);
    Task<int> TimeOutActivitiesAsync();
    Task<double?> NextActivityTimeoutAsync();

    // Timers
    Task<int> FireDueTimersAsync();
    Task<double?> NextTimerDueAsync();

    // Workers, namespaces, queues
    Task<string> RegisterWorkerAsync(WorkerRegistration registration);
    Task HeartbeatWorkerAsync(string workerId);
    Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(string ns);
    Task<int> RemoveDeadWorkersAsync(double cutoff);
    Task CreateNamespaceAsync(string name);
    Task<IReadOnlyList<NamespaceRecord>> ListNamespacesAsync();
    Task<NamespaceStats> GetNamespaceStatsAsync(string name);
    Task DeleteNamespaceAsync(string name);
    Task<IReadOnlyList<QueueStats>> GetQueueStatsAsync(string ns);

    // Schedules (CRUD; firing is the scheduler's job)
    Task<ScheduleRecord> CreateScheduleAsync(ScheduleCreate create, double? nextRunAt);
    Task<ScheduleRecord?> GetScheduleAsync(string ns, string name);
    Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(string ns);
    Task<ScheduleRecord> UpdateScheduleAsync(string ns, string name, Func<ScheduleRecord, (ScheduleRecord Updated, double? NextRunAt)> change);
    Task DeleteScheduleAsync(string ns, string name);
    /// <summary>Fires due schedules (leader only); returns the number of runs started.</summary>
    Task<int> FireDueSchedulesAsync();
    Task<double?> NextScheduleDueAsync();
    Task<ScheduleFireResult> TriggerScheduleAsync(string ns, string name);
    Task<IReadOnlyList<ScheduleFireResult>> BackfillScheduleAsync(string ns, string name, double from, double to);

    // Retention
    Task SetNamespaceRetentionAsync(string name, double? retentionSecs);
    /// <summary>Expired terminal workflows in (completed_at, id) order, after the given position (a keyset page).</summary>
    Task<IReadOnlyList<(string Id, double CompletedAt)>> RetentionCandidatesAsync(int limit, double afterCompletedAt, string afterId);
    Task<IReadOnlyList<ActivityRecord>> GetActivitiesAsync(string workflowId);
    Task<bool> PurgeWorkflowAsync(string workflowId);

    // API keys (hashes only)
    Task<ApiKeyRecord> CreateApiKeyAsync(string keyHash, string prefix, string? label);
    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync();
    /// <summary>Revokes a key; with <paramref name="keepOne"/> refuses (409) to revoke the last active one.</summary>
    Task<int> RevokeApiKeyAsync(string prefix, bool keepOne = false);
    Task<bool> CheckApiKeyAsync(string keyHash);

    // Leases for cluster-wide singletons (scheduler, retention): a row with owner and expiry.
    Task<bool> TryAcquireLeaseAsync(string name, string owner, double ttlSecs);
    Task ReleaseLeaseAsync(string name, string owner);

    // Single-instance marker and release (SQLite); no-ops where several instances are fine.
    Task AcquireInstanceAsync(string instanceId);
    Task ReleaseInstanceAsync(string instanceId);
}

/// <summary>Receives wake-ups (new workflow tasks, activities, timers, timeouts).</summary>
public interface IWorkListener
{
    void WorkflowTaskReady(string queue);
    void ActivityReady(string queue, double dueAt);
    /// <summary>A task was handed back: every waiting poller re-checks (the one a single wake-up would reach may be
    /// the releasing worker, which is not offered the task again during its backoff).</summary>
    void WorkflowTaskReleased(string queue);
    void ActivityReleased(string queue);
    void TimerScheduled(double fireAt);
    void ActivityDeadline(double at);
}
