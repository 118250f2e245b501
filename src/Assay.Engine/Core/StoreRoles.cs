namespace Assay.Engine.Core;

// The engine's durable state, split by role. One SQL class (Store/SqlEngineStore, SQLite and PostgreSQL) implements
// every role; each consumer asks only for the role it uses. Every method is one atomic unit: an operation that touches
// several rows runs in one transaction. Caller mistakes surface as EngineException. Times are epoch seconds taken
// from the store's TimeProvider at the start of the transaction.

/// <summary>Workflow lifecycle from outside a workflow task (start, signal, cancel, terminate, continue-as-new) and the read side.</summary>
public interface IWorkflowStore
{
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
}

/// <summary>The live event stream: every appended history event with a global id, and status changes.</summary>
public interface IEventStore
{
    /// <summary>Fired after every commit that appended events (the event stream re-reads).</summary>
    Pulse EventsAppended { get; }

    /// <summary>Raised after commit for every workflow status change (including creation as PENDING).</summary>
    event Action<StatusChange>? StatusChanged;

    /// <summary>Events with a global id after <paramref name="afterId"/>, oldest first, with their workflow's namespace and status.</summary>
    Task<IReadOnlyList<StreamEvent>> ReadEventStreamAsync(long afterId, string? ns, string? workflowId, int limit);
    Task<long> MaxEventIdAsync();
}

/// <summary>Workflow tasks: the lease a worker takes to replay a workflow, the command batch it returns, hand-back and recovery.</summary>
public interface IDispatchStore
{
    /// <summary>Claims the oldest dispatchable workflow task on <paramref name="queue"/>; with <paramref name="types"/>, only
    /// one of those workflow types (type-aware dispatch; null = any type).</summary>
    Task<WorkflowTask?> ClaimWorkflowTaskAsync(string queue, string workerId, double leaseSecs, long afterSeq, bool leaseBound = false,
        IReadOnlyList<string>? types = null);
    /// <summary>Returns the activities claimed for the worker by eager dispatch (empty unless <paramref name="eagerActivities"/> &gt; 0),
    /// only of <paramref name="activityTypes"/> when given.</summary>
    Task<IReadOnlyList<ActivityRecord>> SubmitCommandsAsync(string workflowId, string workerId, string? leaseToken,
        IReadOnlyList<WorkflowCommand> commands, int eagerActivities = 0, IReadOnlyList<string>? activityTypes = null);
    Task RejectWorkflowTaskAsync(string workflowId, string workerId, string? leaseToken, string error);
    Task<double> ExtendLeaseAsync(string workflowId, string workerId, string? leaseToken, double leaseSecs);
    /// <summary>Hands a leased workflow task back untouched: dispatchable again at once (see <see cref="TaskRelease"/>).</summary>
    Task ReleaseWorkflowTaskAsync(string workflowId, string workerId, string leaseToken, TaskRelease release);
    Task<int> RecoverExpiredLeasesAsync();
}

/// <summary>Activities: schedule, claim, outcomes with the retry policy, heartbeats and timeouts.</summary>
public interface IActivityStore
{
    Task<ActivityRecord> ScheduleActivityAsync(string workflowId, ActivitySpec spec);
    Task<ActivityRecord?> GetActivityAsync(long id);
    Task<IReadOnlyList<ActivityRecord>> GetActivitiesAsync(string workflowId);
    /// <summary>Claims the oldest due activity on <paramref name="queue"/>; with <paramref name="types"/>, only one of those
    /// activity names (null = any).</summary>
    Task<ActivityRecord?> ClaimActivityAsync(string queue, string workerId, bool leaseBound = false, IReadOnlyList<string>? types = null);
    /// <summary>Records the attempt's result. With <paramref name="next"/>, returns the workflow task the completion created,
    /// claimed for that worker (eager workflow task), or null when it is not handed over.</summary>
    Task<WorkflowTask?> CompleteActivityAsync(long id, AttemptCheck check, string? result, EagerWorkflowTask? next = null);
    /// <summary>Hands a running activity back untouched: PENDING again at once, the attempt not counted (see <see cref="TaskRelease"/>).</summary>
    Task ReleaseActivityAsync(long id, AttemptCheck check, TaskRelease release);
    /// <summary>Records a failed attempt (retried, or final); <paramref name="next"/> as for <see cref="CompleteActivityAsync"/>
    /// (only a final failure creates a workflow task).</summary>
    Task<WorkflowTask?> FailActivityAsync(long id, AttemptCheck check, ActivityFailure failure, EagerWorkflowTask? next = null);
    Task<bool> HeartbeatActivityAsync(long id, AttemptCheck check, string? details);
    Task<int> TimeOutActivitiesAsync();
    Task<double?> NextActivityTimeoutAsync();
}

/// <summary>Durable timers (scheduled by workflow commands, fired by the timer loop).</summary>
public interface ITimerStore
{
    Task<int> FireDueTimersAsync();
    Task<double?> NextTimerDueAsync();
}

/// <summary>Cron schedules: CRUD, firing (the scheduler's job, leader only), trigger and backfill.</summary>
public interface IScheduleStore
{
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
}

/// <summary>Workers, namespaces (with their retention setting), queue statistics and queue settings (the rate limit).</summary>
public interface IRegistryStore
{
    Task<string> RegisterWorkerAsync(WorkerRegistration registration);
    Task HeartbeatWorkerAsync(string workerId);
    Task<IReadOnlyList<WorkerRecord>> ListWorkersAsync(string ns);
    Task<int> RemoveDeadWorkersAsync(double cutoff);
    Task CreateNamespaceAsync(string name);
    Task<IReadOnlyList<NamespaceRecord>> ListNamespacesAsync();
    Task<NamespaceStats> GetNamespaceStatsAsync(string name);
    Task DeleteNamespaceAsync(string name);
    Task SetNamespaceRetentionAsync(string name, double? retentionSecs);
    Task<IReadOnlyList<QueueStats>> GetQueueStatsAsync(string ns);
    /// <summary>Waiting tasks whose type no live worker on their queue registered, per namespace, kind, queue and type.</summary>
    Task<IReadOnlyList<UnservedCount>> CountUnservedTasksAsync();
    Task<QueueSettings> GetQueueSettingsAsync(string queue);
    /// <summary>Sets (or, with null, clears) the activity rate limit of a queue, across namespaces and engines.</summary>
    Task<QueueSettings> SetQueueRateLimitAsync(string queue, double? maxActivitiesPerSecond);
}

/// <summary>API keys (hashes only; revoked keys stay listed and never authenticate).</summary>
public interface IApiKeyStore
{
    Task<ApiKeyRecord> CreateApiKeyAsync(string keyHash, string prefix, string? label);
    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync();
    /// <summary>Revokes a key; with <paramref name="keepOne"/> refuses (409) to revoke the last active one.</summary>
    Task<int> RevokeApiKeyAsync(string prefix, bool keepOne = false);
    Task<bool> CheckApiKeyAsync(string keyHash);
}

/// <summary>Leases for cluster-wide singletons (scheduler, retention): a row with owner and expiry.</summary>
public interface ILeaseStore
{
    /// <summary>Takes or renews the lease for <paramref name="owner"/>; false while another owner holds it unexpired.</summary>
    Task<bool> TryAcquireLeaseAsync(string name, string owner, double ttlSecs);
    Task ReleaseLeaseAsync(string name, string owner);
}

/// <summary>What retention needs besides the read side: expired workflows, and their deletion.</summary>
public interface IRetentionStore
{
    /// <summary>Expired terminal workflows in (completed_at, id) order, after the given position (a keyset page).</summary>
    Task<IReadOnlyList<(string Id, double CompletedAt)>> RetentionCandidatesAsync(int limit, double afterCompletedAt, string afterId);
    /// <summary>Deletes a finished workflow and everything it owns. False when it is not (or no longer) terminal.</summary>
    Task<bool> PurgeWorkflowAsync(string workflowId);
}

/// <summary>The whole store as the host opens it: every role, plus the lifecycle (schema, single-instance marker,
/// wake-ups, metrics hook).</summary>
public interface IEngineStore : IWorkflowStore, IEventStore, IDispatchStore, IActivityStore, ITimerStore, IScheduleStore,
    IRegistryStore, IApiKeyStore, ILeaseStore, IRetentionStore, IAsyncDisposable
{
    string BackendName { get; }

    /// <summary>Called with every batch of wake-ups after the transaction that caused them committed
    /// (on PostgreSQL also for work created by other engine instances).</summary>
    IWorkListener? Listener { get; set; }

    /// <summary>Told the duration (seconds) of every write transaction (metrics).</summary>
    Action<double>? WriteObserved { get; set; }

    Task MigrateAsync(CancellationToken ct = default);
    Task<int> SchemaVersionAsync();

    /// <summary>Runs until cancelled, relaying work created by other engine instances to <see cref="Listener"/>.</summary>
    Task ListenForRemoteWorkAsync(Action listening, CancellationToken ct);

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
    /// <summary>A claim on a rate-limited queue was refused a token, or took one: a poller should try again when the
    /// next token is there (<paramref name="at"/>, epoch seconds).</summary>
    void ActivityThrottled(string queue, double at);
    void TimerScheduled(double fireAt);
    void ActivityDeadline(double at);
}
