namespace Assay.Engine.Tests.Api;

/// <summary>docs/engine.md "Timeline": GET /workflows/{id}/timeline, the run as spans on a time axis (the dashboard's
/// timeline view), on a fake clock so every start, end and due time is exact.</summary>
public abstract class TimelineTests(EngineFixture fx) : TestBase(fx)
{
    static JsonObject Cmd(string type, params (string, JsonNode?)[] fields)
    {
        var c = O(("type", type));
        foreach (var (k, v) in fields) c[k] = v;
        return c;
    }

    async Task<JsonObject> TimelineAsync(string id) => (await C.GetAsync($"/workflows/{id}/timeline")).Expect(200).Obj;

    static JsonObject Item(JsonObject t, string key) =>
        t["items"]!.AsArray().Select(i => i!.AsObject()).SingleOrDefault(i => i["key"].Str() == key)
        ?? throw new Xunit.Sdk.XunitException($"no item {key} in {t.ToJsonString()}");

    static void Near(double expected, JsonNode? actual) => Assert.Equal(expected, actual!.GetValue<double>(), 3);

    /// <summary>A run with every kind of span, checked while it is live (what each open span waits for) and after.</summary>
    [SkippableFact]
    public async Task Every_kind_of_span_with_what_it_waits_for_then_its_outcome()
    {
        await using var clock = await UseFakeClockAsync();
        var (queue, aq, cq) = (Uid("q"), Uid("aq"), Uid("cq"));
        var id = await StartAsync("Timeline", queue: queue);
        var t0 = (await DescribeAsync(id))["created_at"]!.GetValue<double>();
        (await PollWorkflowTaskAsync(queue, "w")).Expect(200);
        (await SubmitAsync(id, "w", ScheduleActivity(1, "fetch", aq, null, ("max_attempts", 3), ("initial_interval_secs", 5)))).Expect(200);

        // Scheduled, nobody has claimed it: waits for a worker on its queue.
        var t = await TimelineAsync(id);
        Assert.Equal("RUNNING", t["status"].Str());
        Assert.Null(t["end"]);
        Near(t0, t["start"]);
        var act = Item(t, "activity-1");
        Assert.Equal(("activity", "fetch", "PENDING", "worker", aq), (act["kind"].Str(), act["name"].Str(), act["status"].Str(), act["waiting"].Str(), act["task_queue"].Str()));
        Near(t0, act["start"]);
        Assert.Null(act["end"]);

        // Attempt 1 runs on aw-1 from t0+10, fails at t0+20: the retry waits out its 5 s backoff, last error kept.
        clock.Jump(10);
        var activityId = (await PollActivityAsync(aq, "aw-1")).Expect(200).Obj["id"].Long();
        act = Item(await TimelineAsync(id), "activity-1");
        Assert.Equal(("RUNNING", "attempt", "aw-1"), (act["status"].Str(), act["waiting"].Str(), act["worker"].Str()));
        Near(t0 + 10, act["attempt_started_at"]);
        clock.Jump(10);
        (await C.PostAsync($"/tasks/{activityId}/fail", O(("error", "boom 1")))).Expect(200);
        act = Item(await TimelineAsync(id), "activity-1");
        Assert.Equal(("PENDING", "retry", "boom 1", 2L, 3L), (act["status"].Str(), act["waiting"].Str(), act["error"].Str(), act["attempt"].Long(), act["max_attempts"].Long()));
        Near(t0 + 25, act["next_attempt_at"]);
        Near(t0, act["start"]); // the span starts at the first schedule, not at the retry

        // Attempt 2 from t0+30; at t0+40 a signal wakes the workflow, which starts a timer, a child and a signal wait.
        clock.Jump(10);
        (await PollActivityAsync(aq, "aw-2")).Expect(200);
        clock.Jump(10);
        (await C.PostAsync($"/workflows/{id}/signal/nudge", O(("payload", 1)))).Expect(200);
        (await PollWorkflowTaskAsync(queue, "w")).Expect(200);
        var child = Uid("child");
        (await SubmitAsync(id, "w", Cmd("ScheduleTimer", ("seq", 1), ("duration_secs", 60)),
            Cmd("StartChildWorkflow", ("workflow_type", "Kid"), ("workflow_id", child), ("task_queue", cq)),
            Cmd("WaitForSignal", ("name", "approve")))).Expect(200);

        t = await TimelineAsync(id);
        Near(clock.Now, t["now"]);
        var items = t["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
        // Oldest first; same moment: history order.
        Assert.Equal(["activity", "signal", "timer", "child", "signal_wait"], items.Select(i => i["kind"].Str()));
        act = items[0];
        Assert.Equal(("RUNNING", "attempt", "aw-2", 2L, "boom 1"), (act["status"].Str(), act["waiting"].Str(), act["worker"].Str(), act["attempt"].Long(), act["error"].Str()));
        Near(t0 + 30, act["attempt_started_at"]);
        var signal = items[1];
        Assert.Equal(("nudge", "RECEIVED"), (signal["name"].Str(), signal["status"].Str()));
        Near(t0 + 40, signal["start"]);
        Near(t0 + 40, signal["end"]);
        Assert.Null(signal["waiting"]);
        var timer = items[2];
        Assert.Equal(("timer-1", "PENDING", "fire"), (timer["key"].Str(), timer["status"].Str(), timer["waiting"].Str()));
        Near(t0 + 100, timer["fire_at"]);
        Near(60, timer["duration_secs"]);
        var kid = items[3];
        Assert.Equal((child, "Kid", "RUNNING", "PENDING", "child"),
            (kid["child_workflow_id"].Str(), kid["workflow_type"].Str(), kid["status"].Str(), kid["child_status"].Str(), kid["waiting"].Str()));
        var wait = items[4];
        Assert.Equal(("approve", "WAITING", "signal"), (wait["signal"].Str(), wait["status"].Str(), wait["waiting"].Str()));

        // Outcomes close the spans: the activity completes (its last error stays), the awaited signal arrives,
        // the child completes, the timer fires.
        clock.Jump(5);
        (await C.PostAsync($"/tasks/{activityId}/complete", O(("result", 1)))).Expect(200);
        (await C.PostAsync($"/workflows/{id}/signal/approve")).Expect(200);
        (await PollWorkflowTaskAsync(cq, "cw")).Expect(200);
        (await SubmitAsync(child, "cw", Cmd("CompleteWorkflow", ("result", 2)))).Expect(200);
        clock.Jump(60);
        await EventuallyAsync(async () => (await EventTypesAsync(id)).Contains("TimerFired"), 10, "the timer to fire");

        t = await TimelineAsync(id);
        act = Item(t, "activity-1");
        Assert.Equal(("COMPLETED", "boom 1", "aw-2"), (act["status"].Str(), act["error"].Str(), act["worker"].Str()));
        Assert.Null(act["waiting"]);
        Near(t0 + 45, act["end"]);
        Near(t0 + 30, act["attempt_started_at"]); // the attempt that completed it
        wait = Item(t, wait["key"].Str());
        Assert.Equal("RECEIVED", wait["status"].Str());
        Near(t0 + 45, wait["end"]);
        Assert.Equal("COMPLETED", Item(t, $"child-{child}")["status"].Str());
        timer = Item(t, "timer-1");
        Assert.Equal("FIRED", timer["status"].Str());
        Assert.True(timer["end"]!.GetValue<double>() >= t0 + 100);
        Assert.Equal(2, t["items"]!.AsArray().Count(i => i!["kind"].Str() == "signal"));
    }

    /// <summary>When the run ends, nothing is left open: the engine cancelled its activities and timers, and a signal
    /// it waited for never came. A cancel request closes pending timers at once.</summary>
    [SkippableFact]
    public async Task A_finished_run_leaves_no_span_open()
    {
        await using var clock = await UseFakeClockAsync();
        var (queue, aq) = (Uid("q"), Uid("aq"));
        var id = await StartAsync("Timeline", queue: queue);
        (await PollWorkflowTaskAsync(queue, "w")).Expect(200);
        (await SubmitAsync(id, "w", ScheduleActivity(1, "slow", aq), Cmd("ScheduleTimer", ("seq", 1), ("duration_secs", 600)),
            Cmd("WaitForSignal", ("name", "never")))).Expect(200);
        clock.Jump(5);
        (await C.PostAsync($"/workflows/{id}/cancel")).Expect(200);
        var t = await TimelineAsync(id);
        var cancelRequest = clock.Now;
        Assert.Equal(("CANCELLED", null), (Item(t, "timer-1")["status"].Str(), Item(t, "timer-1")["waiting"]?.ToString()));
        Near(cancelRequest, Item(t, "timer-1")["end"]);
        Assert.Equal("CANCELLED", Item(t, "activity-1")["status"].Str()); // pending activities are cancelled with the request
        Assert.Equal("signal", t["items"]!.AsArray().Single(i => i!["kind"].Str() == "signal_wait")!["waiting"].Str());

        clock.Jump(5);
        (await C.PostAsync($"/workflows/{id}/terminate", O(("reason", "enough")))).Expect(200);
        t = await TimelineAsync(id);
        Assert.Equal("FAILED", t["status"].Str());
        Near(cancelRequest + 5, t["end"]);
        var waitSpan = t["items"]!.AsArray().Single(i => i!["kind"].Str() == "signal_wait")!.AsObject();
        Assert.Equal("NOT_RECEIVED", waitSpan["status"].Str());
        Near(cancelRequest + 5, waitSpan["end"]);
        Assert.All(t["items"]!.AsArray(), i => { Assert.NotNull(i!["end"]); Assert.Null(i["waiting"]); });
    }

    [SkippableFact]
    public async Task A_child_whose_id_is_taken_and_an_unknown_workflow()
    {
        var taken = await StartAsync("Other");
        var (id, _, _) = await StartAndClaimAsync("Timeline");
        (await SubmitAsync(id, "w-test", Cmd("StartChildWorkflow", ("workflow_type", "Kid"), ("workflow_id", taken)))).Expect(200);
        var kid = Item(await TimelineAsync(id), $"child-{taken}");
        Assert.Equal("NOT_STARTED", kid["status"].Str());
        Assert.Contains("already in use", kid["error"].Str());
        Assert.Equal(kid["start"]!.GetValue<double>(), kid["end"]!.GetValue<double>());

        Assert.Contains("workflow nope-", (await C.GetAsync($"/workflows/{Uid("nope")}/timeline")).Expect(404).Error);
        var paths = (await C.GetAsync("/openapi.json")).Expect(200).Obj["paths"]!;
        Assert.Contains("spans", paths["/api/v1/workflows/{id}/timeline"]!["get"]!["summary"].Str());
    }
}

public sealed class SqliteTimelineTests(SqliteEngineFixture fx) : TimelineTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresTimelineTests(PostgresEngineFixture fx) : TimelineTests(fx), IClassFixture<PostgresEngineFixture>;
