using System.Diagnostics;

namespace Assay.Engine.Tests.Infrastructure;

/// <summary>Helpers shared by the behavioural suites that run against every backend.</summary>
public abstract class TestBase(EngineFixture fixture)
{
    protected EngineFixture Fixture { get; } = fixture;
    protected EngineClient C => _client ??= Fixture.Client();
    EngineClient? _client;

    /// <summary>Runs the rest of the test on an engine of its own (fresh database, same backend) whose clock moves only
    /// when the test moves it; <see cref="C"/> talks to that engine from here on. Dispose the answer at the end.</summary>
    protected async Task<TestClock> UseFakeClockAsync()
    {
        if (Fixture.Backend == Backend.Postgres) TestDatabases.RequirePostgres();
        var clock = await TestClock.StartAsync(Fixture.Backend);
        _client = clock.Client;
        return clock;
    }

    protected static string Uid(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    protected async Task<string> NewNamespaceAsync()
    {
        var ns = Uid("ns");
        (await C.PostAsync("/namespaces", O(("name", ns)))).Expect(201);
        return ns;
    }

    protected async Task<string> StartAsync(string type, JsonNode? input = null, string? queue = null, string? id = null,
        string ns = "main", JsonObject? searchAttributes = null)
    {
        id ??= Uid(type.ToLowerInvariant());
        var body = O(("workflow_type", type), ("workflow_id", id), ("input", input), ("task_queue", queue ?? "default"), ("namespace", ns));
        if (searchAttributes is not null) body["search_attributes"] = searchAttributes;
        (await C.PostAsync("/workflows", body)).Expect(201);
        return id;
    }

    protected async Task<JsonObject> DescribeAsync(string id) => (await C.GetAsync($"/workflows/{id}")).Expect(200).Obj;

    protected async Task<List<JsonObject>> EventsAsync(string id) =>
        (await C.GetAsync($"/workflows/{id}/events")).Expect(200).Arr.Select(e => e!.AsObject()).ToList();

    protected async Task<List<string>> EventTypesAsync(string id) => (await EventsAsync(id)).Select(e => e["event_type"].Str()).ToList();

    protected static bool IsTerminal(JsonObject wf) => wf["status"].Str() is "COMPLETED" or "FAILED" or "CANCELLED" or "TIMED_OUT";

    /// <summary>Polls the workflow until it reaches a terminal status (or the timeout).</summary>
    protected async Task<JsonObject> WaitTerminalAsync(string id, double timeoutSecs = 15)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var wf = await DescribeAsync(id);
            if (IsTerminal(wf)) return wf;
            if (sw.Elapsed.TotalSeconds > timeoutSecs)
                throw new Xunit.Sdk.XunitException($"workflow {id} still {wf["status"]} after {timeoutSecs}s; events: " +
                                                   string.Join(",", await EventTypesAsync(id)));
            await Task.Delay(25);
        }
    }

    protected static async Task EventuallyAsync(Func<Task<bool>> condition, double timeoutSecs, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!await condition())
        {
            if (sw.Elapsed.TotalSeconds > timeoutSecs) throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            await Task.Delay(25);
        }
    }

    protected Task<Reply> PollWorkflowTaskAsync(string queue, string worker, double wait = 0) =>
        C.PostAsync("/workflow-tasks/poll", O(("queue", queue), ("worker_id", worker), ("wait_secs", wait)));

    protected Task<Reply> PollActivityAsync(string queue, string worker, double wait = 0) =>
        C.PostAsync("/tasks/poll", O(("queue", queue), ("worker_id", worker), ("wait_secs", wait)));

    protected Task<Reply> SubmitAsync(string id, string worker, params JsonObject[] commands) =>
        C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", worker), ("commands", new JsonArray(commands.Cast<JsonNode>().ToArray()))));

    /// <summary>Starts a workflow on a private queue and claims its first workflow task.</summary>
    protected async Task<(string Id, string Queue, JsonObject Task)> StartAndClaimAsync(string type = "T", JsonNode? input = null)
    {
        var queue = Uid("q");
        var id = await StartAsync(type, input, queue);
        var task = (await PollWorkflowTaskAsync(queue, "w-test")).Expect(200).Obj;
        Assert.Equal(id, task["workflow_id"].Str());
        return (id, queue, task);
    }

    protected static JsonObject ScheduleActivity(long seq, string name, string queue, JsonNode? input = null, params (string, JsonNode?)[] opts)
    {
        var c = O(("type", "ScheduleActivity"), ("seq", seq), ("name", name), ("task_queue", queue), ("input", input));
        foreach (var (k, v) in opts) c[k] = v;
        return c;
    }
}
