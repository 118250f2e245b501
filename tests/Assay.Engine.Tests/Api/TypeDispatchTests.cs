using System.Collections.Concurrent;

namespace Assay.Engine.Tests.Api;

/// <summary>Type-aware dispatch (issue 17 item 5): polls that list their types get only those; a task of a type no live
/// worker registered waits, visibly (describe, list, /metrics), until one arrives; polls without types take anything.</summary>
public abstract class TypeDispatchTests(EngineFixture fx) : TestBase(fx)
{
    Task<Reply> PollTypedAsync(string queue, string worker, params string[] types) =>
        C.PostAsync("/workflow-tasks/poll", O(("queue", queue), ("worker_id", worker), ("workflow_types", Names(types))));

    Task<Reply> PollActivityTypedAsync(string queue, string worker, params string[] types) =>
        C.PostAsync("/tasks/poll", O(("queue", queue), ("worker_id", worker), ("activity_types", Names(types))));

    static JsonArray Names(string[] types) => A(types.Select(t => (JsonNode?)t).ToArray());

    async Task<string> RegisterAsync(string queue, string[]? workflows, string[]? activities)
    {
        var body = O(("identity", Uid("worker")), ("queue", queue));
        if (workflows is not null) body["workflows"] = Names(workflows);
        if (activities is not null) body["activities"] = Names(activities);
        return (await C.PostAsync("/workers/register", body)).Expect(200).Obj["worker_id"].Str();
    }

    async Task<string> MetricsAsync()
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(Fixture.Engine!.BaseUrl + "/metrics");
    }

    static List<(string Kind, string Name)> Unserved(JsonObject wf) =>
        wf["unserved"]!.AsArray().Select(u => (u!["kind"].Str(), u["name"].Str())).ToList();

    [SkippableFact]
    public async Task A_typed_poll_gets_only_its_types_in_fifo_order_across_them()
    {
        var queue = Uid("q");
        var b1 = await StartAsync("B", queue: queue);
        var a1 = await StartAsync("A", queue: queue);
        var c1 = await StartAsync("C", queue: queue);
        // The queue's head is a B: a worker running only A passes it by.
        Assert.Equal(a1, (await PollTypedAsync(queue, "wa", "A")).Expect(200).Obj["workflow_id"].Str());
        Assert.Equal("null", (await PollTypedAsync(queue, "wa", "A")).Body);
        // Several types: the oldest task among them (B before C), duplicates in the list are harmless.
        Assert.Equal(b1, (await PollTypedAsync(queue, "wbc", "C", "B", "C")).Expect(200).Obj["workflow_id"].Str());
        Assert.Equal(c1, (await PollTypedAsync(queue, "wbc", "C", "B")).Expect(200).Obj["workflow_id"].Str());
        Assert.Equal("null", (await PollTypedAsync(queue, "wbc", "C", "B")).Body);
    }

    [SkippableFact]
    public async Task A_typed_activity_poll_gets_only_its_activity_names()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        (await SubmitAsync(id, "w-test", ScheduleActivity(1, "resize", aq), ScheduleActivity(2, "upload", aq))).Expect(200);
        var upload = (await PollActivityTypedAsync(aq, "w-up", "upload")).Expect(200).Obj;
        Assert.Equal("upload", upload["name"].Str());
        Assert.Equal("null", (await PollActivityTypedAsync(aq, "w-up", "upload")).Obj["task"]?.ToJsonString() ?? "null");
        Assert.Equal("resize", (await PollActivityTypedAsync(aq, "w-any", "upload", "resize")).Expect(200).Obj["name"].Str());
    }

    [SkippableFact]
    public async Task A_poll_without_types_takes_any_type()
    {
        var queue = Uid("q");
        var id = await StartAsync("Whatever", queue: queue);
        await RegisterAsync(queue, null, null); // registered without lists: serves anything
        Assert.False((await DescribeAsync(id))["no_worker_for_type"]!.GetValue<bool>());
        Assert.Equal(id, (await PollWorkflowTaskAsync(queue, "seed-like")).Expect(200).Obj["workflow_id"].Str());
    }

    [SkippableFact]
    public async Task An_unserved_type_waits_visibly_until_a_worker_that_serves_it_arrives()
    {
        var queue = Uid("q");
        await RegisterAsync(queue, ["A"], ["a-step"]);
        var id = await StartAsync("B", queue: queue);

        // The only worker runs A: the B task is never offered to it and the workflow just waits.
        Assert.Equal("null", (await PollTypedAsync(queue, "wa", "A")).Body);
        var wf = await DescribeAsync(id);
        Assert.Equal("PENDING", wf["status"].Str());
        Assert.True(wf["no_worker_for_type"]!.GetValue<bool>());
        Assert.Equal([("workflow", "B")], Unserved(wf));
        Assert.Equal(queue, wf["unserved"]![0]!["task_queue"].Str());
        Assert.Null(wf["unhandled"]); // nobody claimed and handed it back
        var listed = (await C.GetAsync("/workflows?type=B&limit=1000")).Expect(200).Arr.Single(w => w!["id"].Str() == id)!;
        Assert.True(listed["no_worker_for_type"]!.GetValue<bool>());
        Assert.Contains($"assay_pending_tasks_without_worker{{namespace=\"main\",queue=\"{queue}\",kind=\"workflow\",type=\"B\"}} 1\n",
            await MetricsAsync());

        // A worker for B arrives: the flag clears and it runs the workflow.
        await RegisterAsync(queue, ["B"], []);
        Assert.False((await DescribeAsync(id))["no_worker_for_type"]!.GetValue<bool>());
        Assert.DoesNotContain($"queue=\"{queue}\",kind=\"workflow\"", await MetricsAsync());
        var task = (await PollTypedAsync(queue, "wb", "B")).Expect(200).Obj;
        Assert.Equal(id, task["workflow_id"].Str());

        // Its activity "b-step" has no worker either (the A worker registered only a-step): shown the same way.
        var aq = Uid("aq");
        (await SubmitAsync(id, "wb", ScheduleActivity(1, "b-step", aq))).Expect(200);
        wf = await DescribeAsync(id);
        Assert.Equal([("activity", "b-step")], Unserved(wf));
        Assert.Contains($"assay_pending_tasks_without_worker{{namespace=\"main\",queue=\"{aq}\",kind=\"activity\",type=\"b-step\"}} 1\n",
            await MetricsAsync());
        await RegisterAsync(aq, [], ["b-step"]);
        Assert.Empty(Unserved(await DescribeAsync(id)));
        var act = (await PollActivityTypedAsync(aq, "wb-act", "b-step")).Expect(200).Obj;
        (await C.PostAsync($"/tasks/{act["id"].Long()}/complete", O(("result", 1), ("worker_id", "wb-act"), ("attempt", 1)))).Expect(200);
        (await PollTypedAsync(queue, "wb", "B")).Expect(200);
        (await SubmitAsync(id, "wb", O(("type", "CompleteWorkflow"), ("result", 1)))).Expect(200);
        var done = await DescribeAsync(id);
        Assert.Equal("COMPLETED", done["status"].Str());
        Assert.False(done["no_worker_for_type"]!.GetValue<bool>());
    }

    [SkippableFact]
    public async Task A_worker_dropped_for_silence_no_longer_serves_its_types()
    {
        await using var clock = await UseFakeClockAsync();
        var queue = Uid("q");
        await RegisterAsync(queue, ["B"], []);
        var id = await StartAsync("B", queue: queue);
        Assert.False((await DescribeAsync(id))["no_worker_for_type"]!.GetValue<bool>());
        // No heartbeat for longer than the worker timeout (90 s): the health loop drops it, and with it its types.
        clock.Jump(91);
        await clock.AdvanceUntilAsync(async () => (await DescribeAsync(id))["no_worker_for_type"]!.GetValue<bool>(), 30,
            "the silent worker to be dropped", stepSecs: 0.5);
        Assert.Equal([("workflow", "B")], Unserved(await DescribeAsync(id)));
    }

    [SkippableFact]
    public async Task Eager_dispatch_hands_over_only_activity_types_the_worker_runs()
    {
        var (id, queue, task) = await StartAndClaimAsync();
        var body = O(("worker_id", "w-test"), ("lease_token", task["lease_token"].Str()), ("eager_activities", 4),
            ("activity_types", A("mine")), ("commands", A(ScheduleActivity(1, "theirs", queue), ScheduleActivity(2, "mine", queue))));
        var answer = (await C.PostAsync($"/workflow-tasks/{id}/commands", body)).Expect(200).Obj;
        Assert.Equal(["mine"], answer["activity_tasks"]!.AsArray().Select(a => a!["name"].Str()).ToList());
        Assert.Equal("theirs", (await PollActivityTypedAsync(queue, "w-other", "theirs")).Expect(200).Obj["name"].Str());
    }

    [SkippableFact]
    public async Task Bad_type_lists_are_refused()
    {
        var queue = Uid("q");
        Assert.Contains("workflow_types", (await C.PostAsync("/workflow-tasks/poll",
            O(("queue", queue), ("worker_id", "w"), ("workflow_types", "A")))).Expect(400).Error);
        Assert.Contains("workflow_types", (await PollTypedAsync(queue, "w")).Expect(400).Error);
        Assert.Contains("workflow_types", (await PollTypedAsync(queue, "w", "")).Expect(400).Error);
        Assert.Contains("activity_types", (await PollActivityTypedAsync(queue, "w",
            Enumerable.Range(0, 101).Select(i => $"t{i}").ToArray())).Expect(400).Error);
        Assert.Contains("activity_types", (await C.PostAsync("/tasks/poll",
            O(("queue", queue), ("worker_id", "w"), ("activity_types", A(1, 2))))).Expect(400).Error);
    }

    [SkippableFact]
    public async Task The_type_fields_are_in_the_openapi_document()
    {
        var paths = (await C.GetAsync("/openapi.json")).Expect(200).Obj["paths"]!.AsObject();
        Assert.Contains("workflow_types", paths["/api/v1/workflow-tasks/poll"]!["post"]!["summary"].Str());
        Assert.Contains("activity_types", paths["/api/v1/tasks/poll"]!["post"]!["summary"].Str());
        Assert.Contains("activity_types", paths["/api/v1/workflow-tasks/{id}/commands"]!["post"]!["summary"].Str());
        Assert.Contains("no_worker_for_type", paths["/api/v1/workflows/{id}"]!["get"]!["summary"].Str());
    }

    [SkippableFact]
    public async Task Concurrent_typed_and_untyped_pollers_claim_each_task_once_and_only_their_types()
    {
        var queue = Uid("q");
        string[] types = ["A", "B", "C"];
        var started = new Dictionary<string, string>();
        for (var i = 0; i < 30; i++)
        {
            var type = types[i % 3];
            started[await StartAsync(type, queue: queue)] = type;
        }
        string[]?[] pollers = [["A"], ["A"], ["B", "C"], ["C"], ["A", "B", "C"], null];
        var claims = new ConcurrentBag<(string Id, string Type, string[]? Poller)>();
        await Task.WhenAll(pollers.Select((p, n) => Task.Run(async () =>
        {
            var misses = 0;
            while (misses < 3)
            {
                var reply = p is null ? await PollWorkflowTaskAsync(queue, $"w{n}") : await PollTypedAsync(queue, $"w{n}", p);
                if (reply.Expect(200).Body == "null") { misses++; continue; }
                var task = reply.Obj;
                claims.Add((task["workflow_id"].Str(), task["workflow_type"].Str(), p));
            }
        })));
        Assert.Equal(started.Count, claims.Count);
        Assert.Equal(started.Keys.Order(), claims.Select(c => c.Id).Order()); // each exactly once
        Assert.All(claims, c => Assert.True(c.Poller is null || c.Poller.Contains(c.Type), $"{c.Type} went to [{string.Join(",", c.Poller ?? [])}]"));
        Assert.All(claims, c => Assert.Equal(started[c.Id], c.Type));
    }
}

public sealed class SqliteTypeDispatchTests(SqliteEngineFixture fx) : TypeDispatchTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresTypeDispatchTests(PostgresEngineFixture fx) : TypeDispatchTests(fx), IClassFixture<PostgresEngineFixture>;
