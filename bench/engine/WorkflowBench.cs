using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Assay.Engine.Bench;

/// <summary>
/// REST workers for the benchmark workflow "TwoSteps": step1(n) = n*2, step2(x) = x+10, result {sum}.
/// Replays from history like any worker (counts ActivityCompleted events to know where it is).
/// With <paramref name="eager"/> the workflow-task loop asks for eager dispatch: the activity its command batch
/// schedules comes back in the answer and is run and completed right there, without an activity poll.
/// With <paramref name="eagerWorkflow"/> (and <paramref name="eager"/>) an eagerly run activity's completion asks for the
/// workflow task it creates while a workflow slot is free, and the replay goes on right there, without a workflow-task poll.
/// With <paramref name="typed"/> the polls list their types (type-aware dispatch): two workflow types (one never
/// started) and both activities, so every claim takes the multi-type path (one indexed FIFO head per type).
/// </summary>
internal sealed class WorkflowBench(string baseUrl, int workers, bool eager, bool typed = false, bool eagerWorkflow = false)
    : IAsyncDisposable
{
    string WorkflowTypes => typed ? ",\"workflow_types\":[\"TwoSteps\",\"Unused\"]" : "";
    string ActivityTypes => typed ? ",\"activity_types\":[\"step1\",\"step2\"]" : "";
    bool EagerWorkflow => eager && eagerWorkflow;

    // start, then per step: workflow-task claim (folded into the previous completion by an eager workflow task),
    // commands, activity claim (folded into the commands with eager dispatch), complete; then claim + complete-workflow.
    public int TransactionsPerWorkflow => EagerWorkflow ? 7 : eager ? 9 : 11;
    const string Queue = "bench";

    /// <summary>Workflow tasks that came with an activity completion instead of a poll.</summary>
    public int HandedOver => Volatile.Read(ref _handedOver);
    int _handedOver;

    readonly HttpClient _http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 512,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ActivityHeadersPropagator = null, // no tracing headers to compute per request: nobody collects traces here
    })
    {
        BaseAddress = new Uri(baseUrl + "/api/v1/"),
    };
    readonly CancellationTokenSource _stop = new();
    readonly List<Task> _loops = [];
    readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new();
    int _completed;
    volatile Exception? _failure;
    readonly SemaphoreSlim _eagerSlots = new(workers); // activity slots for eager dispatch
    readonly SemaphoreSlim _workflowSlots = new(workers * 4); // workflow slots for eager workflow tasks: one per workflow in flight (16 starters)
    string _workerId = "";

    public async Task StartWorkersAsync()
    {
        var reg = await PostAsync("workers/register", """{"identity":"bench","queue":"bench","workflows":["TwoSteps"],"activities":["step1","step2"]}""");
        _workerId = reg!.RootElement.GetProperty("worker_id").GetString()!;
        for (var i = 0; i < workers; i++)
        {
            _loops.Add(Task.Run(WorkflowLoopAsync));
            _loops.Add(Task.Run(ActivityLoopAsync));
        }
    }

    /// <summary>Starts <paramref name="count"/> workflows (16 in flight at a time) and waits until all completed.</summary>
    public async Task<(TimeSpan Elapsed, int Done)> RunBatchAsync(int count, string prefix)
    {
        var before = Volatile.Read(ref _completed);
        var sw = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < count)
                await StartAsync($"{prefix}-{n}-{Guid.NewGuid():N}", n);
        }));
        while (Volatile.Read(ref _completed) - before < count)
        {
            if (_failure is { } failure) throw new InvalidOperationException("a benchmark worker failed", failure);
            if (sw.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException("benchmark workflows did not complete");
            await Task.Delay(2);
        }
        return (sw.Elapsed, count);
    }

    /// <summary>One workflow at a time on an idle engine: start → the worker's CompleteWorkflow acknowledged.</summary>
    public async Task<List<double>> MeasureLatencyAsync(int runs)
    {
        var result = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var id = $"lat-{i}-{Guid.NewGuid():N}";
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting[id] = done;
            var sw = Stopwatch.StartNew();
            await StartAsync(id, i);
            await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
            result.Add(sw.Elapsed.TotalMilliseconds);
        }
        return result;
    }

    async Task StartAsync(string id, int n)
    {
        using var r = await _http.PostAsync("workflows", Json($"{{\"workflow_type\":\"TwoSteps\",\"workflow_id\":\"{id}\",\"task_queue\":\"{Queue}\",\"input\":{{\"n\":{n}}}}}"));
        if ((int)r.StatusCode != 201) throw new InvalidOperationException($"start failed: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    async Task WorkflowLoopAsync()
    {
        var poll = $"{{\"queue\":\"{Queue}\",\"worker_id\":\"{_workerId}\",\"wait_secs\":5{WorkflowTypes}}}";
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var task = await PostAsync("workflow-tasks/poll", poll);
                if (task!.RootElement.ValueKind == JsonValueKind.Object) await HandleWorkflowTaskAsync(task.RootElement);
            }
            catch (Exception) when (_stop.IsCancellationRequested) { }
            catch (Exception e) { _failure ??= e; } // reported by RunBatchAsync instead of stalling the run
        }
    }

    /// <summary>Replays a claimed workflow task (from a poll or an activity completion) and submits its next command.</summary>
    async Task HandleWorkflowTaskAsync(JsonElement task)
    {
        var id = task.GetProperty("workflow_id").GetString()!;
        var token = task.GetProperty("lease_token").GetString()!;
        var n = task.GetProperty("input").GetProperty("n").GetInt64();
        var results = new List<long>();
        foreach (var e in task.GetProperty("history").EnumerateArray())
            if (e.GetProperty("event_type").GetString() == "ActivityCompleted")
                results.Add(e.GetProperty("payload").GetProperty("result").GetInt64());
        var command = results.Count switch
        {
            0 => $"{{\"type\":\"ScheduleActivity\",\"seq\":1,\"name\":\"step1\",\"task_queue\":\"{Queue}\",\"input\":{n}}}",
            1 => $"{{\"type\":\"ScheduleActivity\",\"seq\":2,\"name\":\"step2\",\"task_queue\":\"{Queue}\",\"input\":{results[0]}}}",
            _ => $"{{\"type\":\"CompleteWorkflow\",\"result\":{{\"sum\":{results[1]}}}}}",
        };
        // Ask for the activity only with a free activity slot, as an SDK would (slots bound the work in flight).
        var slot = eager && results.Count < 2 && _eagerSlots.Wait(0);
        var eagerField = slot ? ",\"eager_activities\":1" + ActivityTypes : "";
        using var answer = await PostAsync($"workflow-tasks/{id}/commands",
            $"{{\"worker_id\":\"{_workerId}\",\"lease_token\":\"{token}\",\"commands\":[{command}]{eagerField}}}");
        if (results.Count >= 2)
        {
            Interlocked.Increment(ref _completed);
            if (_waiting.TryRemove(id, out var tcs)) tcs.TrySetResult();
        }
        else if (slot)
        {
            // Run it beside the caller, which goes straight back to polling workflow tasks.
            var activities = answer?.RootElement.TryGetProperty("activity_tasks", out var tasks) == true
                ? tasks.EnumerateArray().Select(t => t.Clone()).ToList()
                : [];
            _ = RunEagerAsync(activities);
        }
    }

    async Task ActivityLoopAsync()
    {
        var poll = $"{{\"queue\":\"{Queue}\",\"worker_id\":\"{_workerId}\",\"wait_secs\":5{ActivityTypes}}}";
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var task = await PostAsync("tasks/poll", poll);
                if (task!.RootElement.TryGetProperty("id", out _)) await RunActivityAsync(task.RootElement);
            }
            catch (Exception) when (_stop.IsCancellationRequested) { }
            catch (Exception e) { _failure ??= e; } // reported by RunBatchAsync instead of stalling the run
        }
    }

    async Task RunEagerAsync(List<JsonElement> activities)
    {
        try
        {
            foreach (var activity in activities) await RunActivityAsync(activity);
        }
        catch (Exception) when (_stop.IsCancellationRequested) { }
        catch (Exception e) { _failure ??= e; }
        finally
        {
            _eagerSlots.Release();
        }
    }

    /// <summary>Runs a claimed activity (from a poll or eager dispatch) and reports its result. With a free workflow slot the
    /// completion asks for the workflow task it creates (eager workflow task) and the replay goes on right here.</summary>
    async Task RunActivityAsync(JsonElement activity)
    {
        var wfSlot = EagerWorkflow && _workflowSlots.Wait(0);
        try
        {
            using var next = await CompleteActivityAsync(activity, wfSlot);
            if (next?.RootElement.TryGetProperty("workflow_task", out var task) != true || task.ValueKind != JsonValueKind.Object) return;
            Interlocked.Increment(ref _handedOver);
            await HandleWorkflowTaskAsync(task);
        }
        finally
        {
            if (wfSlot) _workflowSlots.Release();
        }
    }

    /// <summary>Reports an activity's result; with <paramref name="askForWorkflowTask"/> the answer may carry the workflow task
    /// the completion created.</summary>
    async Task<JsonDocument?> CompleteActivityAsync(JsonElement task, bool askForWorkflowTask)
    {
        var id = task.GetProperty("id").GetInt64();
        var input = long.Parse(task.GetProperty("input").GetString()!);
        var result = task.GetProperty("name").GetString() == "step1" ? input * 2 : input + 10;
        var ask = askForWorkflowTask ? ",\"eager_workflow_task\":true" + WorkflowTypes : "";
        return await PostAsync($"tasks/{id}/complete", $"{{\"result\":{result},\"worker_id\":\"{_workerId}\"{ask}}}");
    }

    /// <summary>POSTs JSON; the parsed answer, or null for an empty one. Fails on an error status.</summary>
    async Task<JsonDocument?> PostAsync(string path, string body)
    {
        using var r = await _http.PostAsync(path, Json(body), _stop.Token);
        var bytes = await r.Content.ReadAsByteArrayAsync(_stop.Token);
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"{path} failed: {(int)r.StatusCode} {Encoding.UTF8.GetString(bytes)}");
        return bytes.Length == 0 ? null : JsonDocument.Parse(bytes);
    }

    static ByteArrayContent Json(string s) => new(Encoding.UTF8.GetBytes(s)) { Headers = { ContentType = new("application/json") } };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_loops); } catch { /* stopping */ }
        _http.Dispose();
    }
}
