using System.Collections.Concurrent;

namespace Assay.Engine.Core;

/// <summary>
/// In-process wake-ups for long-polls and background loops. A waiter takes the current
/// <see cref="Pulse"/> task *before* it looks for work, so a wake-up that lands between "found
/// nothing" and "start waiting" is never lost. Delayed wake-ups (retries due later) wait on the injected
/// <see cref="TimeProvider"/>.
/// </summary>
public sealed class WorkNotifier(TimeProvider time) : IWorkListener, IDisposable
{
    readonly ConcurrentDictionary<string, WaitQueue> _workflowQueues = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, WaitQueue> _activityQueues = new(StringComparer.Ordinal);
    /// <summary>Rate-limited queue → time of the turn already scheduled for it.</summary>
    readonly ConcurrentDictionary<string, double> _turns = new(StringComparer.Ordinal);
    readonly CancellationTokenSource _disposed = new();

    public Pulse Timers { get; } = new();
    public Pulse Deadlines { get; } = new();

    public WaitQueue WorkflowQueue(string queue) => _workflowQueues.GetOrAdd(queue, _ => new WaitQueue());
    public WaitQueue ActivityQueue(string queue) => _activityQueues.GetOrAdd(queue, _ => new WaitQueue());

    public void WorkflowTaskReady(string queue) => WorkflowQueue(queue).Fire();
    public void WorkflowTaskReleased(string queue) => WorkflowQueue(queue).FireAll();
    public void ActivityReleased(string queue) => ActivityQueue(queue).FireAll();

    public void ActivityReady(string queue, double dueAt)
    {
        var delay = dueAt - time.EpochSeconds();
        if (delay <= 0.001) { ActivityQueue(queue).Fire(); return; }
        // A retry with backoff: wake its queue's pollers when it becomes due.
        _ = FireLaterAsync(ActivityQueue(queue), delay);
    }

    /// <summary>
    /// A rate-limited queue's next token is there at <paramref name="at"/>: one poller gets a turn then, and its claim
    /// schedules the next. One turn pending per queue is enough — a later one is dropped, an earlier one replaces it —
    /// so a crowd of pollers refused a token does not become a crowd of timers.
    /// </summary>
    public void ActivityThrottled(string queue, double at)
    {
        var delay = at - time.EpochSeconds();
        if (delay <= 0.001) { ActivityQueue(queue).Fire(); return; }
        while (true)
        {
            if (_turns.TryGetValue(queue, out var pending))
            {
                if (pending <= at) return;
                if (_turns.TryUpdate(queue, at, pending)) break;
            }
            else if (_turns.TryAdd(queue, at)) break;
        }
        _ = FireLaterAsync(ActivityQueue(queue), delay, () => _turns.TryRemove(KeyValuePair.Create(queue, at)));
    }

    // A loop sleeping until some due time only needs waking for something due earlier.
    public void TimerScheduled(double fireAt) => Timers.FireIfBefore(fireAt);
    public void ActivityDeadline(double at) => Deadlines.FireIfBefore(at);

    async Task FireLaterAsync(WaitQueue pulse, double delaySecs, Action? beforeFire = null)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(delaySecs, 86_400)), time, _disposed.Token);
            beforeFire?.Invoke();
            pulse.Fire();
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }
}

/// <summary>A reusable edge-triggered signal: <see cref="Next"/> completes at the next <see cref="Fire"/>.</summary>
public sealed class Pulse
{
    TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    double _sleepsUntil = double.MaxValue;

    public Task Next => Volatile.Read(ref _tcs).Task;

    /// <summary>Set by a loop before it sleeps: the time it will wake by itself.</summary>
    public double SleepsUntil
    {
        get => Volatile.Read(ref _sleepsUntil);
        set => Volatile.Write(ref _sleepsUntil, value);
    }

    public void FireIfBefore(double at)
    {
        if (at < SleepsUntil) Fire();
    }

    public void Fire() =>
        Interlocked.Exchange(ref _tcs, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(1);

    /// <summary>Waits for <paramref name="next"/> (taken earlier from <see cref="Next"/>) or the timeout, measured by
    /// <paramref name="time"/>; false on timeout.</summary>
    public static async Task<bool> WaitAsync(Task next, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        if (timeout <= TimeSpan.Zero) return next.IsCompleted;
        // Timers tick in whole milliseconds: a shorter wait is a 0 ms timer that ends before what the caller waits
        // for is due, and the caller goes round again without time having moved (on a fake clock, for ever).
        if (timeout < MinimumWait) timeout = MinimumWait;
        try
        {
            await next.WaitAsync(timeout, time, ct);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}

/// <summary>
/// Hands each wake-up to exactly one waiting poller (no thundering herd: one new task wakes one
/// worker, not all of them). A wake-up with nobody waiting is kept as a permit for the next poller,
/// and a poller that was woken but did not use the wake-up passes it on, so none is lost.
/// </summary>
public sealed class WaitQueue
{
    const int MaxPermits = 4096;
    readonly Queue<TaskCompletionSource> _waiters = new();
    int _permits;

    /// <summary>Joins the queue; the returned task completes when this poller is handed a wake-up.</summary>
    public TaskCompletionSource Register()
    {
        var w = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (_permits > 0)
            {
                _permits--;
                w.SetResult();
            }
            else
            {
                _waiters.Enqueue(w);
            }
        }
        return w;
    }

    public void Fire()
    {
        lock (_waiters)
        {
            while (_waiters.TryDequeue(out var w))
                if (w.TrySetResult()) return;
            if (_permits < MaxPermits) _permits++;
        }
    }

    /// <summary>Wakes every waiting poller (no permit is kept: a poller that starts later looks for work anyway).</summary>
    public void FireAll()
    {
        lock (_waiters)
        {
            var any = false;
            while (_waiters.TryDequeue(out var w)) any |= w.TrySetResult();
            if (!any && _permits < MaxPermits) _permits++;
        }
    }

    /// <summary>Leaves the queue without using a wake-up: one that arrived meanwhile is passed to the next poller.</summary>
    public void Leave(TaskCompletionSource w)
    {
        if (w.TrySetCanceled()) return; // never woken: it will be skipped when dequeued
        Fire();
    }
}
