namespace Assay.Engine.Core;

/// <summary>Timing knobs of the engine semantics.</summary>
public sealed record EngineTimings
{
    /// <summary>Workflow-task lease; a worker that neither submits nor extends within it loses the task.</summary>
    public TimeSpan DispatchTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Longest server-side wait a poll may ask for.</summary>
    public TimeSpan MaxPollWait { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Workers silent for longer are removed from the registry.</summary>
    public TimeSpan WorkerTimeout { get; init; } = TimeSpan.FromSeconds(90);
    /// <summary>Safety re-check of waiting polls and loops, in case a wake-up from another instance was missed.</summary>
    public TimeSpan Recheck { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Leader lease of the scheduler; renewed every tick, taken over by another engine when it lapses.</summary>
    public TimeSpan LeaderLease { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Longest sleep of the scheduler between checks (new or patched schedules are seen within it).</summary>
    public TimeSpan SchedulerTick { get; init; } = TimeSpan.FromMilliseconds(250);
}

/// <summary>
/// The running engine: the store plus what makes it live — long-polls woken by in-process
/// notifications, and the background loops (timers, activity timeouts, lease recovery, worker
/// health, wake-ups from other instances). Every wait and every "now" goes through <see cref="Time"/>.
/// </summary>
public sealed class WorkflowEngine(IEngineStore store, EngineTimings timings, TimeProvider time, ILogger logger) : IAsyncDisposable
{
    public IEngineStore Store { get; } = store;
    public EngineTimings Timings { get; } = timings;
    public TimeProvider Time { get; } = time;
    public WorkNotifier Notifier { get; } = InitNotifier(store, time);

    /// <summary>Identifies this engine in lease rows.</summary>
    public string InstanceId { get; init; } = Guid.NewGuid().ToString("N");

    /// <summary>True while this engine holds the scheduler lease.</summary>
    public bool IsLeader { get; private set; }

    /// <summary>Where retention archives workflows before purging them; null = retention off.</summary>
    public string? ArchiveDirectory { get; init; }

    /// <summary>How often retention looks for expired workflows.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Wakes the scheduler early (a schedule was created, patched or resumed).</summary>
    public Pulse SchedulerWake { get; } = new();

    /// <summary>Counters and histograms for /metrics.</summary>
    public Operations.EngineMetrics Metrics { get; } = InitMetrics(store);

    static Operations.EngineMetrics InitMetrics(IEngineStore store)
    {
        var m = new Operations.EngineMetrics();
        store.StatusChanged += m.StatusChanged;
        store.WriteObserved = secs => m.Observe("assay_store_write_seconds", secs);
        return m;
    }

    static WorkNotifier InitNotifier(IEngineStore store, TimeProvider time)
    {
        var n = new WorkNotifier(time);
        store.Listener = n;
        return n;
    }

    /// <summary>Claims a workflow task (of one of <paramref name="types"/> when given), waiting up to <paramref name="wait"/>
    /// for one to appear.</summary>
    public async Task<WorkflowTask?> PollWorkflowTaskAsync(string queue, string workerId, TimeSpan wait, long afterSeq, CancellationToken ct,
        bool leaseBound = false, IReadOnlyList<string>? types = null)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var task = await LongPollAsync(Notifier.WorkflowQueue(queue),
            () => Store.ClaimWorkflowTaskAsync(queue, workerId, Timings.DispatchTimeout.TotalSeconds, afterSeq, leaseBound, types), wait, ct);
        Metrics.Observe("assay_poll_wait_seconds", System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds,
            ("kind", "workflow"), ("result", task is null ? "empty" : "task"));
        return task;
    }

    /// <summary>Claims an activity task (of one of <paramref name="types"/> when given), waiting up to <paramref name="wait"/>
    /// for one to become due.</summary>
    public async Task<ActivityRecord?> PollActivityAsync(string queue, string workerId, TimeSpan wait, CancellationToken ct,
        bool leaseBound = false, IReadOnlyList<string>? types = null)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var a = await LongPollAsync(Notifier.ActivityQueue(queue), () => Store.ClaimActivityAsync(queue, workerId, leaseBound, types), wait, ct);
        Metrics.Observe("assay_poll_wait_seconds", System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds,
            ("kind", "activity"), ("result", a is null ? "empty" : "task"));
        if (a is not null) Metrics.ActivityClaimed(a);
        return a;
    }

    async Task<T?> LongPollAsync<T>(WaitQueue queue, Func<Task<T?>> claim, TimeSpan wait, CancellationToken ct) where T : class
    {
        if (wait > Timings.MaxPollWait) wait = Timings.MaxPollWait;
        var deadline = Time.GetUtcNow() + wait;
        while (true)
        {
            // Join the queue before the claim: a wake-up that lands during the claim is not lost.
            var waiter = queue.Register();
            if (ct.IsCancellationRequested) // the caller went away: take no work nobody will do
            {
                queue.Leave(waiter);
                return null;
            }
            var got = await claim();
            var left = deadline - Time.GetUtcNow();
            if (got is not null || left <= TimeSpan.Zero)
            {
                // A wake-up handed to us meanwhile may be for other work: pass it on.
                queue.Leave(waiter);
                return got;
            }
            bool woken;
            try
            {
                woken = await Pulse.WaitAsync(waiter.Task, left < Timings.Recheck ? left : Timings.Recheck, Time, ct);
            }
            catch (OperationCanceledException)
            {
                queue.Leave(waiter);
                return null;
            }
            if (!woken) queue.Leave(waiter); // re-check anyway (another instance's work)
            // Woken: the next claim uses the wake-up.
        }
    }

    /// <summary>Runs the background loops until <paramref name="ct"/> is cancelled.</summary>
    public Task RunBackgroundAsync(CancellationToken ct) => Task.WhenAll(
        DueLoopAsync("timers", Notifier.Timers, Store.FireDueTimersAsync, Store.NextTimerDueAsync, ct),
        DueLoopAsync("activity timeouts", Notifier.Deadlines, Store.TimeOutActivitiesAsync, Store.NextActivityTimeoutAsync, ct),
        PeriodicLoopAsync("lease recovery", TimeSpan.FromMilliseconds(250), () => Store.RecoverExpiredLeasesAsync(), ct),
        PeriodicLoopAsync("worker health", TimeSpan.FromSeconds(5),
            () => Store.RemoveDeadWorkersAsync(Time.EpochSeconds() - Timings.WorkerTimeout.TotalSeconds), ct),
        ListenLoopAsync(ct),
        SchedulerLoopAsync(ct),
        RetentionLoopAsync(ct));

    async Task RetentionLoopAsync(CancellationToken ct)
    {
        if (ArchiveDirectory is null) return;
        const string lease = "retention";
        var retention = new Operations.Retention(Store, Store, Store, ArchiveDirectory, Time, logger);
        var held = false;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    held = await Store.TryAcquireLeaseAsync(lease, InstanceId, Math.Max(30, RetentionInterval.TotalSeconds * 3));
                    if (held) await retention.RunOnceAsync(ct); // one pass over the whole backlog
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    logger.LogError(e, "Background loop retention failed; retrying");
                }
                await DelayQuietly(RetentionInterval, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            // A clean shutdown hands retention over at once instead of after the lease runs out.
            if (held) await ReleaseLeaseQuietlyAsync(lease);
        }
    }

    async Task ReleaseLeaseQuietlyAsync(string lease)
    {
        try { await Store.ReleaseLeaseAsync(lease, InstanceId); }
        catch (Exception e) { logger.LogWarning("Could not release the {Lease} lease: {Message}", lease, e.Message); }
    }

    /// <summary>
    /// The cron scheduler: only the holder of the "scheduler" lease row fires schedules. It sleeps
    /// until the next due time (at most <see cref="EngineTimings.SchedulerTick"/>), so a schedule fires
    /// within milliseconds of its time; run ids derived from the occurrence make a double fire impossible
    /// even if two engines ever believed they were leader.
    /// </summary>
    async Task SchedulerLoopAsync(CancellationToken ct)
    {
        const string lease = "scheduler";
        var renewed = DateTimeOffset.MinValue;
        while (!ct.IsCancellationRequested)
        {
            var sleep = Timings.SchedulerTick;
            var next = SchedulerWake.Next;
            try
            {
                // Renew a held lease every third of its life (not every tick); a follower tries every second.
                if (!IsLeader || Time.GetUtcNow() - renewed > Timings.LeaderLease / 3)
                {
                    IsLeader = await Store.TryAcquireLeaseAsync(lease, InstanceId, Timings.LeaderLease.TotalSeconds);
                    if (IsLeader) renewed = Time.GetUtcNow();
                }
                if (IsLeader)
                {
                    var n = await Store.FireDueSchedulesAsync();
                    if (n > 0) logger.LogDebug("scheduler: {Count} run(s) started", n);
                    if (await Store.NextScheduleDueAsync() is { } due)
                    {
                        var until = TimeSpan.FromSeconds(Math.Max(0, due - Time.EpochSeconds()) + 0.002);
                        if (until < sleep) sleep = until;
                    }
                }
                else sleep = TimeSpan.FromSeconds(1);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogError(e, "Background loop scheduler failed; retrying");
                sleep = TimeSpan.FromSeconds(1);
            }
            try { await Pulse.WaitAsync(next, sleep, Time, ct); }
            catch (OperationCanceledException) { break; }
        }
        if (IsLeader)
        {
            IsLeader = false;
            await ReleaseLeaseQuietlyAsync(lease);
        }
    }

    /// <summary>Sleeps until the next due item (or a wake-up saying an earlier one was added), then processes due items.</summary>
    async Task DueLoopAsync(string name, Pulse wake, Func<Task<int>> process, Func<Task<double?>> nextDue, CancellationToken ct)
    {
        var stuck = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                wake.SleepsUntil = double.MaxValue; // awake: any wake-up now completes `next`, so nothing is missed
                var next = wake.Next;
                var handled = await process();
                if (handled >= 200) continue; // a backlog: keep going
                var due = await nextDue();
                // Clamped in seconds before it becomes a TimeSpan: a due time centuries away (or a bad row's
                // infinity) must mean "sleep the usual while", not an overflow that stalls the loop.
                var secs = due is { } d ? Math.Clamp(d - Time.EpochSeconds(), 0, Timings.Recheck.TotalSeconds) : Timings.Recheck.TotalSeconds;
                if (double.IsNaN(secs)) secs = Timings.Recheck.TotalSeconds;
                var sleep = TimeSpan.FromSeconds(secs);
                if (sleep <= TimeSpan.Zero)
                {
                    // Something is due: go again at once — unless twice running nothing due could be handled (rows
                    // skipped as unprocessable, or raced), which would otherwise spin; then pause briefly.
                    stuck = handled == 0 ? stuck + 1 : 0;
                    if (stuck < 2) continue;
                    sleep = TimeSpan.FromMilliseconds(50);
                }
                else stuck = 0;
                wake.SleepsUntil = Time.EpochSeconds() + sleep.TotalSeconds;
                await Pulse.WaitAsync(next, sleep, Time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Background loop {Loop} failed; retrying", name);
                await DelayQuietly(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    async Task PeriodicLoopAsync(string name, TimeSpan period, Func<Task<int>> work, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var n = await work();
                if (n > 0) logger.LogInformation("{Loop}: {Count} item(s) handled", name, n);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogError(e, "Background loop {Loop} failed; retrying", name);
            }
            await DelayQuietly(period, ct);
        }
    }

    readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once work other engine instances start on a shared store wakes this one's
    /// pollers (at once for a single-instance store).</summary>
    public Task RemoteWorkListening => _listening.Task;

    async Task ListenLoopAsync(CancellationToken ct)
    {
        try { await Store.ListenForRemoteWorkAsync(() => _listening.TrySetResult(), ct); }
        catch (OperationCanceledException) { }
    }

    async Task DelayQuietly(TimeSpan t, CancellationToken ct)
    {
        try { await Task.Delay(t, Time, ct); } catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        Notifier.Dispose();
        await Store.DisposeAsync();
    }
}
