using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Assay.Engine.Bench;

/// <summary>
/// REST workers for the benchmark workflow "TwoSteps": step1(n) = n*2, step2(x) = x+10, result {sum}.
/// Replays from history like any worker (counts ActivityCompleted events to know where it is).
/// </summary>
internal sealed class WorkflowBench(string baseUrl, int workers) : IAsyncDisposable
{
    // start, then per step: workflow-task claim, commands, activity claim, complete; then claim + complete-workflow.
    public const int TransactionsPerWorkflow = 11;
    const string Queue = "bench";

    readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
    {
        BaseAddress = new Uri(baseUrl + "/api/v1/"),
    };
    readonly CancellationTokenSource _stop = new();
    readonly List<Task> _loops = [];
    readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new();
    int _completed;
    string _workerId = "";

    public async Task StartWorkersAsync()
    {
        var reg = await PostAsync("workers/register", """{"identity":"bench","queue":"bench","workflows":["TwoSteps"],"activities":["step1","step2"]}""");
        _workerId = reg.RootElement.GetProperty("worker_id").GetString()!;
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
        var poll = $"{{\"queue\":\"{Queue}\",\"worker_id\":\"{_workerId}\",\"wait_secs\":5}}";
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var task = await PostAsync("workflow-tasks/poll", poll);
                if (task.RootElement.ValueKind != JsonValueKind.Object) continue;
                var id = task.RootElement.GetProperty("workflow_id").GetString()!;
                var token = task.RootElement.GetProperty("lease_token").GetString()!;
                var n = task.RootElement.GetProperty("input").GetProperty("n").GetInt64();
                var results = new List<long>();
                foreach (var e in task.RootElement.GetProperty("history").EnumerateArray())
                    if (e.GetProperty("event_type").GetString() == "ActivityCompleted")
                        results.Add(e.GetProperty("payload").GetProperty("result").GetInt64());
                var command = results.Count switch
                {
                    0 => $"{{\"type\":\"ScheduleActivity\",\"seq\":1,\"name\":\"step1\",\"task_queue\":\"{Queue}\",\"input\":{n}}}",
                    1 => $"{{\"type\":\"ScheduleActivity\",\"seq\":2,\"name\":\"step2\",\"task_queue\":\"{Queue}\",\"input\":{results[0]}}}",
                    _ => $"{{\"type\":\"CompleteWorkflow\",\"result\":{{\"sum\":{results[1]}}}}}",
                };
                using var r = await _http.PostAsync($"workflow-tasks/{id}/commands",
                    Json($"{{\"worker_id\":\"{_workerId}\",\"lease_token\":\"{token}\",\"commands\":[{command}]}}"));
                if (results.Count >= 2 && r.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref _completed);
                    if (_waiting.TryRemove(id, out var tcs)) tcs.TrySetResult();
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested) { }
        }
    }

    async Task ActivityLoopAsync()
    {
        var poll = $"{{\"queue\":\"{Queue}\",\"worker_id\":\"{_workerId}\",\"wait_secs\":5}}";
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var task = await PostAsync("tasks/poll", poll);
                if (!task.RootElement.TryGetProperty("id", out var idElement)) continue;
                var id = idElement.GetInt64();
                var input = long.Parse(task.RootElement.GetProperty("input").GetString()!);
                var result = task.RootElement.GetProperty("name").GetString() == "step1" ? input * 2 : input + 10;
                using var r = await _http.PostAsync($"tasks/{id}/complete", Json($"{{\"result\":{result},\"worker_id\":\"{_workerId}\"}}"));
            }
            catch (Exception) when (_stop.IsCancellationRequested) { }
        }
    }

    async Task<JsonDocument> PostAsync(string path, string body)
    {
        using var r = await _http.PostAsync(path, Json(body), _stop.Token);
        return JsonDocument.Parse(await r.Content.ReadAsStreamAsync(_stop.Token));
    }

    static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_loops); } catch { /* stopping */ }
        _http.Dispose();
    }
}
