using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace Assay.Engine.Tests.Infrastructure;

public enum WorkerMode
{
    /// <summary>Speaks exactly like the seed Lua client: no lease token, no long-poll, `[]` for empty bodies,
    /// one loop polling workflow tasks then activities, upserts yield.</summary>
    Seed,
    /// <summary>Uses the improvements: long-poll, lease token, upserts buffered with the next decision.</summary>
    Modern,
}

/// <summary>
/// A workflow worker for tests, speaking the REST protocol over real HTTP. Workflows are C#
/// functions replayed deterministically from history, exactly like the seed Lua client: every
/// ctx call returns a recorded result or ends the replay with the commands to submit.
/// </summary>
public sealed class HarnessWorker : IAsyncDisposable
{
    readonly EngineClient _client;
    readonly Dictionary<string, Func<WfCtx, JsonNode?, JsonNode?>> _workflows = new();
    readonly Dictionary<string, Func<ActCtx, JsonNode?, Task<JsonNode?>>> _activities = new();
    readonly CancellationTokenSource _stop = new();
    readonly List<Task> _loops = [];

    public HarnessWorker(string baseUrl, string queue, WorkerMode mode = WorkerMode.Modern, string? identity = null)
    {
        _client = new EngineClient(baseUrl);
        Queue = queue;
        Mode = mode;
        Identity = identity ?? "harness-" + Guid.NewGuid().ToString("N")[..6];
    }

    public string Queue { get; }
    public WorkerMode Mode { get; }
    public string Identity { get; }
    public string WorkerId { get; private set; } = "";

    /// <summary>How many times each activity body ran (exactly-once checks).</summary>
    public ConcurrentDictionary<string, int> Executions { get; } = new();
    /// <summary>Runs per activity id (exactly-once checks across workers and engines).</summary>
    public ConcurrentDictionary<long, int> ExecutionsById { get; } = new();
    /// <summary>Activity completions the engine acknowledged (200): these must never be lost.</summary>
    public ConcurrentDictionary<long, string> AcknowledgedCompletions { get; } = new();
    public ConcurrentQueue<string> Errors { get; } = new();
    public int WorkflowTasks;

    public HarnessWorker Workflow(string type, Func<WfCtx, JsonNode?, JsonNode?> fn) { _workflows[type] = fn; return this; }
    public HarnessWorker Activity(string name, Func<ActCtx, JsonNode?, JsonNode?> fn) { _activities[name] = (c, i) => Task.FromResult(fn(c, i)); return this; }
    public HarnessWorker ActivityAsync(string name, Func<ActCtx, JsonNode?, Task<JsonNode?>> fn) { _activities[name] = fn; return this; }

    public async Task<HarnessWorker> StartAsync(int concurrency = 1)
    {
        var reg = await _client.PostAsync("/workers/register", JsonExt.O(
            ("identity", Identity), ("queue", Queue),
            ("workflows", new JsonArray(_workflows.Keys.Select(k => (JsonNode)k).ToArray())),
            ("activities", new JsonArray(_activities.Keys.Select(k => (JsonNode)k).ToArray()))));
        WorkerId = reg.Expect(200).Obj["worker_id"].Str();
        for (var i = 0; i < concurrency; i++)
        {
            if (Mode == WorkerMode.Seed)
                _loops.Add(Task.Run(SeedLoopAsync));
            else
            {
                _loops.Add(Task.Run(WorkflowLoopAsync));
                _loops.Add(Task.Run(ActivityLoopAsync));
            }
        }
        return this;
    }

    async Task SeedLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _client.PostAsync("/workers/heartbeat", JsonExt.O(("worker_id", WorkerId)));
                var did = await PollWorkflowTaskAsync(wait: 0) || await PollActivityAsync(wait: 0);
                if (!did) await Task.Delay(50, _stop.Token);
            }
            catch (OperationCanceledException) { }
            catch (Exception e) when (!_stop.IsCancellationRequested) { Errors.Enqueue(e.ToString()); await Task.Delay(100); }
            catch (Exception) { }
        }
    }

    async Task WorkflowLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try { await PollWorkflowTaskAsync(wait: 1); }
            catch (Exception e) when (!_stop.IsCancellationRequested) { Errors.Enqueue(e.ToString()); await Task.Delay(100); }
            catch (Exception) { }
        }
    }

    async Task ActivityLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try { await PollActivityAsync(wait: 1); }
            catch (Exception e) when (!_stop.IsCancellationRequested) { Errors.Enqueue(e.ToString()); await Task.Delay(100); }
            catch (Exception) { }
        }
    }

    JsonObject PollBody(double wait)
    {
        var body = JsonExt.O(("queue", Queue), ("worker_id", WorkerId));
        if (wait > 0) body["wait_secs"] = wait;
        return body;
    }

    async Task<bool> PollWorkflowTaskAsync(double wait)
    {
        var resp = await _client.PostAsync("/workflow-tasks/poll", PollBody(wait), _stop.Token);
        if (resp.Code != 200 || resp.Body is "" or "null") return false;
        var task = resp.Obj;
        Interlocked.Increment(ref WorkflowTasks);
        var commands = Replay(task);
        var body = JsonExt.O(("worker_id", WorkerId), ("commands", commands));
        if (Mode == WorkerMode.Modern) body["lease_token"] = task["lease_token"]!.DeepClone();
        var submit = await _client.PostAsync($"/workflow-tasks/{task["workflow_id"].Str()}/commands", body);
        if (submit.Code != 200) Errors.Enqueue($"submit {task["workflow_id"]}: {submit}");
        return true;
    }

    JsonArray Replay(JsonObject task)
    {
        var type = task["workflow_type"].Str();
        if (!_workflows.TryGetValue(type, out var fn))
            return [JsonExt.O(("type", "FailWorkflow"), ("error", $"no workflow handler registered for type: {type}"))];
        var ctx = new WfCtx(task["workflow_id"].Str(), (JsonArray)task["history"]!, Mode, Queue);
        List<JsonObject> commands;
        try
        {
            var result = fn(ctx, task["input"]?.DeepClone());
            commands = [.. ctx.Buffered, JsonExt.O(("type", "CompleteWorkflow"), ("result", result))];
        }
        catch (YieldSignal y)
        {
            commands = [.. ctx.Buffered, .. y.Commands];
        }
        catch (WorkflowCancelledSignal)
        {
            commands = [JsonExt.O(("type", "CancelWorkflow"))];
        }
        catch (Exception e)
        {
            commands = [JsonExt.O(("type", "FailWorkflow"), ("error", e.Message))];
        }
        if (ctx.Snapshot() is { } snapshot) commands.Insert(0, snapshot);
        return new JsonArray(commands.Cast<JsonNode>().ToArray());
    }

    async Task<bool> PollActivityAsync(double wait)
    {
        var resp = await _client.PostAsync("/tasks/poll", PollBody(wait), _stop.Token);
        if (resp.Code != 200 || resp.Json is not JsonObject task || task["id"] is null) return false;
        var id = task["id"].Long();
        var name = task["name"].Str();
        Executions.AddOrUpdate(name, 1, (_, n) => n + 1);
        ExecutionsById.AddOrUpdate(id, 1, (_, n) => n + 1);
        var input = task["input"] is JsonValue v ? JsonNode.Parse(v.GetValue<string>()) : null;
        var ctx = new ActCtx(_client, id, task["attempt"].Long(), WorkerId);
        JsonNode? result = null;
        Exception? failure = null;
        try
        {
            if (!_activities.TryGetValue(name, out var fn)) throw new InvalidOperationException($"No handler registered for activity: {name}");
            result = await fn(ctx, input);
        }
        catch (Exception e)
        {
            failure = e;
        }
        if (failure is null)
        {
            var body = result is null && Mode == WorkerMode.Seed ? (object)"[]" : JsonExt.O(("result", result?.DeepClone()));
            if ((await _client.PostAsync($"/tasks/{id}/complete", body)).Code == 200)
                AcknowledgedCompletions[id] = result?.ToJsonString() ?? "null";
        }
        else
        {
            var body = JsonExt.O(("error", failure.Message));
            if (failure is NonRetryableException) body["non_retryable"] = true;
            await _client.PostAsync($"/tasks/{id}/fail", body);
        }
        return true;
    }

    /// <summary>Stops the loops; a long poll in flight is abandoned at once (its request cancelled).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(10)); } catch { /* stopping */ }
        _client.Dispose();
    }
}

public sealed class NonRetryableException(string message) : Exception(message);

sealed class YieldSignal(List<JsonObject> commands) : Exception("yield")
{
    public List<JsonObject> Commands { get; } = commands;
}

sealed class WorkflowCancelledSignal() : Exception("__ASSAY_WORKFLOW_CANCELLED__");

/// <summary>The replay context of one workflow task (mirrors the seed client's ctx).</summary>
public sealed class WfCtx
{
    readonly Dictionary<long, (bool Ok, JsonNode? Value, string? Error)> _activities = new();
    readonly HashSet<long> _timers = [];
    readonly Dictionary<string, List<JsonNode?>> _signals = new();
    readonly Dictionary<string, int> _signalCursor = new();
    readonly Dictionary<long, JsonNode?> _sideEffects = new();
    readonly Dictionary<string, (bool Ok, JsonNode? Value, string? Error)> _children = new();
    readonly Dictionary<string, Func<JsonNode?>> _queries = new();
    readonly bool _cancelRequested;
    readonly WorkerMode _mode;
    long _activitySeq, _timerSeq, _sideEffectSeq;

    internal List<JsonObject> Buffered { get; } = [];
    public string WorkflowId { get; }
    public JsonArray History { get; }

    readonly string _defaultQueue;

    /// <summary>Like the seed client, but activities and children default to this worker's own queue (not "default"),
    /// so tests running side by side do not take each other's work.</summary>
    internal WfCtx(string workflowId, JsonArray history, WorkerMode mode, string defaultQueue)
    {
        _defaultQueue = defaultQueue;
        WorkflowId = workflowId;
        History = history;
        _mode = mode;
        foreach (var e in history)
        {
            var p = e!["payload"] as JsonObject;
            switch (e["event_type"].Str())
            {
                case "ActivityCompleted": _activities[p!["activity_seq"].Long()] = (true, p["result"]?.DeepClone(), null); break;
                case "ActivityFailed": _activities[p!["activity_seq"].Long()] = (false, null, p["error"]?.ToString()); break;
                case "TimerFired": _timers.Add(p!["timer_seq"].Long()); break;
                case "SignalReceived":
                    var name = p!["signal"].Str();
                    if (!_signals.TryGetValue(name, out var list)) _signals[name] = list = [];
                    list.Add(p["payload"]?.DeepClone());
                    break;
                case "SideEffectRecorded": _sideEffects.TryAdd(p!["side_effect_seq"].Long(), p["value"]?.DeepClone()); break;
                case "ChildWorkflowCompleted": _children[p!["child_workflow_id"].Str()] = (true, p["result"]?.DeepClone(), null); break;
                case "ChildWorkflowFailed": _children[p!["child_workflow_id"].Str()] = (false, null, p["error"]?.ToString()); break;
                case "WorkflowCancelRequested": _cancelRequested = true; break;
            }
        }
    }

    void CheckCancel()
    {
        if (_cancelRequested) throw new WorkflowCancelledSignal();
    }

    JsonObject ActivityCommand(long seq, string name, JsonNode? input, JsonObject? opts)
    {
        var c = JsonExt.O(("type", "ScheduleActivity"), ("seq", seq), ("name", name), ("task_queue", opts?["task_queue"]?.DeepClone() ?? _defaultQueue),
            ("input", input?.DeepClone()));
        if (opts is not null)
            foreach (var (k, v) in opts)
                if (k != "task_queue") c[k] = v?.DeepClone();
        return c;
    }

    public JsonNode? ExecuteActivity(string name, JsonNode? input, JsonObject? opts = null)
    {
        CheckCancel();
        var seq = ++_activitySeq;
        if (_activities.TryGetValue(seq, out var r))
            return r.Ok ? r.Value : throw new InvalidOperationException($"activity '{name}' failed: {r.Error}");
        throw new YieldSignal([ActivityCommand(seq, name, input, opts)]);
    }

    public JsonNode?[] ExecuteParallel(params (string Name, JsonNode? Input, JsonObject? Opts)[] calls)
    {
        CheckCancel();
        var results = new JsonNode?[calls.Length];
        var missing = new List<JsonObject>();
        string? firstError = null;
        for (var i = 0; i < calls.Length; i++)
        {
            var seq = ++_activitySeq;
            if (_activities.TryGetValue(seq, out var r))
            {
                if (r.Ok) results[i] = r.Value;
                else firstError ??= $"activity '{calls[i].Name}' failed: {r.Error}";
            }
            else missing.Add(ActivityCommand(seq, calls[i].Name, calls[i].Input, calls[i].Opts));
        }
        if (missing.Count > 0) throw new YieldSignal(missing);
        if (firstError is not null) throw new InvalidOperationException(firstError);
        return results;
    }

    public void Sleep(double seconds)
    {
        CheckCancel();
        var seq = ++_timerSeq;
        if (_timers.Contains(seq)) return;
        throw new YieldSignal([JsonExt.O(("type", "ScheduleTimer"), ("seq", seq), ("duration_secs", seconds))]);
    }

    public JsonNode? WaitForSignal(string name)
    {
        CheckCancel();
        var consumed = _signalCursor.GetValueOrDefault(name);
        if (_signals.TryGetValue(name, out var arrivals) && consumed < arrivals.Count)
        {
            _signalCursor[name] = consumed + 1;
            return arrivals[consumed];
        }
        throw new YieldSignal([JsonExt.O(("type", "WaitForSignal"), ("name", name))]);
    }

    public JsonNode? SideEffect(string name, Func<JsonNode?> fn)
    {
        CheckCancel();
        var seq = ++_sideEffectSeq;
        // Presence, not value: a recorded null is a result too (the seed client's nil bug, fixed here).
        if (_sideEffects.TryGetValue(seq, out var cached)) return cached;
        var value = fn();
        throw new YieldSignal([JsonExt.O(("type", "RecordSideEffect"), ("seq", seq), ("name", name), ("value", value))]);
    }

    public JsonNode? StartChildWorkflow(string type, string workflowId, JsonNode? input, string? taskQueue = null)
    {
        CheckCancel();
        if (_children.TryGetValue(workflowId, out var r))
            return r.Ok ? r.Value : throw new InvalidOperationException($"child workflow '{workflowId}' failed: {r.Error}");
        throw new YieldSignal([JsonExt.O(("type", "StartChildWorkflow"), ("workflow_type", type), ("workflow_id", workflowId),
            ("input", input?.DeepClone()), ("task_queue", taskQueue ?? _defaultQueue))]);
    }

    /// <summary>Modern mode buffers the upsert with the next decision (no extra round trip); seed mode yields it.</summary>
    public void UpsertSearchAttributes(JsonObject patch)
    {
        CheckCancel();
        var command = JsonExt.O(("type", "UpsertSearchAttributes"), ("patch", patch.DeepClone()));
        if (_mode == WorkerMode.Seed) throw new YieldSignal([command]);
        Buffered.Add(command);
    }

    public void ContinueAsNew(JsonNode? input)
    {
        CheckCancel();
        throw new YieldSignal([JsonExt.O(("type", "ContinueAsNew"), ("input", input?.DeepClone()))]);
    }

    public void RegisterQuery(string name, Func<JsonNode?> fn) => _queries[name] = fn;

    internal JsonObject? Snapshot()
    {
        if (_queries.Count == 0) return null;
        var state = new JsonObject();
        foreach (var (name, fn) in _queries)
        {
            try { state[name] = fn()?.DeepClone(); } catch { /* dropped, like the seed client */ }
        }
        return JsonExt.O(("type", "RecordSnapshot"), ("state", state));
    }
}

/// <summary>What an activity body can do besides returning: heartbeat (and learn about cancellation).</summary>
public sealed class ActCtx(EngineClient client, long id, long attempt, string workerId)
{
    public long Id { get; } = id;
    public long Attempt { get; } = attempt;

    /// <summary>Returns true when the engine asks the activity to stop.</summary>
    public async Task<bool> HeartbeatAsync(JsonNode? details = null)
    {
        var r = await client.PostAsync($"/tasks/{Id}/heartbeat", JsonExt.O(("details", details), ("worker_id", workerId)));
        return r.Code != 200 || r.Obj["cancel_requested"]!.GetValue<bool>();
    }
}
