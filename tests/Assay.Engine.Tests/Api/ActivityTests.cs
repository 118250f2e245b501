namespace Assay.Engine.Tests.Api;

/// <summary>docs/engine.md "Activities: retries and timeouts": activities, retry policy, timeouts, outcome checks.</summary>
public abstract class ActivityTests(EngineFixture fx) : TestBase(fx)
{
    async Task<(string Wf, string Queue, long Id)> ScheduleViaRestAsync(params (string, JsonNode?)[] opts)
    {
        var queue = Uid("aq");
        var wf = await StartAsync("Act", O(("k", "v")), queue: Uid("wq"));
        var body = O(("name", "fetch"), ("input", O(("url", "x"))), ("task_queue", queue), ("seq", 1));
        foreach (var (k, v) in opts) body[k] = v;
        var act = (await C.PostAsync($"/workflows/{wf}/activities", body)).Expect(201).Obj;
        return (wf, queue, act["id"].Long());
    }

    [SkippableFact]
    public async Task Schedule_is_idempotent_and_starts_the_workflow()
    {
        var (wf, queue, id) = await ScheduleViaRestAsync(("max_attempts", 3));
        var act = (await C.GetAsync($"/activities/{id}")).Expect(200).Obj;
        Assert.Equal("PENDING", act["status"].Str());
        Assert.Equal("fetch", act["name"].Str());
        Assert.Equal(queue, act["task_queue"].Str());
        Assert.Equal(wf, act["workflow_id"].Str());
        Assert.Equal(1, act["seq"].Long());
        Assert.Equal(1, act["attempt"].Long());
        Assert.Equal("{\"url\":\"x\"}", act["input"].Str());
        Assert.Equal("RUNNING", (await DescribeAsync(wf))["status"].Str());

        var again = (await C.PostAsync($"/workflows/{wf}/activities", O(("name", "other"), ("seq", 1), ("task_queue", "elsewhere")))).Expect(201).Obj;
        Assert.Equal(id, again["id"].Long());
        Assert.Equal("fetch", again["name"].Str());
        Assert.Equal(["WorkflowStarted", "ActivityScheduled"], await EventTypesAsync(wf));
        var scheduled = (await EventsAsync(wf))[1]["payload"].Decode()!;
        Assert.Equal(id, scheduled["activity_id"].Long());
        Assert.Equal("{\"url\":\"x\"}", scheduled["input"].Str()); // the reference's string-encoded input

        (await C.PostAsync($"/workflows/{wf}/activities", O(("name", "x"), ("task_queue", "q")))).Expect(400); // seq required
    }

    [SkippableFact]
    public async Task Claim_and_complete()
    {
        var (wf, queue, id) = await ScheduleViaRestAsync();
        (await PollActivityAsync(Uid("wrong"), "w1")).Expect(200);
        var task = (await PollActivityAsync(queue, "w1")).Expect(200).Obj;
        Assert.Equal(id, task["id"].Long());
        Assert.Equal("RUNNING", task["status"].Str());
        Assert.Equal("w1", task["claimed_by"].Str());
        Assert.Equal("{\"task\":null}", (await PollActivityAsync(queue, "w2")).Body);

        (await C.PostAsync($"/tasks/{id}/complete", O(("result", O(("bytes", 42)))))).Expect(200);
        var done = (await EventsAsync(wf)).Single(e => e["event_type"].Str() == "ActivityCompleted")["payload"].Decode()!;
        Assert.Equal(1, done["activity_seq"].Long());
        Assert.Equal(id, done["activity_id"].Long());
        Assert.Equal(42, done["result"]!["bytes"].Long());
        var act = (await C.GetAsync($"/activities/{id}")).Obj;
        Assert.Equal("COMPLETED", act["status"].Str());
        Assert.Equal("{\"bytes\":42}", act["result"].Str());
    }

    [SkippableFact]
    public async Task Retry_then_final_failure()
    {
        await using var clock = await UseFakeClockAsync();
        var (wf, queue, id) = await ScheduleViaRestAsync(("max_attempts", 3), ("initial_interval_secs", 0.05));
        (await PollActivityAsync(queue, "w")).Expect(200);
        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "boom 1")))).Expect(200);
        var act = (await C.GetAsync($"/activities/{id}")).Obj;
        Assert.Equal("PENDING", act["status"].Str());
        Assert.Equal(2, act["attempt"].Long());
        Assert.DoesNotContain("ActivityFailed", await EventTypesAsync(wf));

        clock.Jump(0.12);
        var second = (await PollActivityAsync(queue, "w", wait: 2)).Expect(200).Obj;
        Assert.Equal(2, second["attempt"].Long());
        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "boom 2")))).Expect(200);
        var poll = PollActivityAsync(queue, "w", wait: 2);
        await clock.AdvanceUntilAsync(poll, 2, "the third attempt"); // backoff 0.1 s
        var third = (await poll).Expect(200).Obj;
        Assert.Equal(3, third["attempt"].Long());
        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "boom 3")))).Expect(200);

        act = (await C.GetAsync($"/activities/{id}")).Obj;
        Assert.Equal("FAILED", act["status"].Str());
        Assert.Equal(3, act["attempt"].Long());
        Assert.Equal("boom 3", act["error"].Str());
        var failed = (await EventsAsync(wf)).Where(e => e["event_type"].Str() == "ActivityFailed").ToList();
        Assert.Single(failed);
        Assert.Equal(3, failed[0]["payload"].Decode()!["final_attempt"].Long());
    }

    [SkippableFact]
    public async Task Backoff_is_honoured_and_long_poll_wakes_when_due()
    {
        await using var clock = await UseFakeClockAsync();
        var (_, queue, id) = await ScheduleViaRestAsync(("max_attempts", 2), ("initial_interval_secs", 2));
        (await PollActivityAsync(queue, "w")).Expect(200);
        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "later")))).Expect(200);
        Assert.Equal("{\"task\":null}", (await PollActivityAsync(queue, "w")).Body);
        var start = clock.Now;
        var poll = PollActivityAsync(queue, "w", wait: 5);
        clock.Jump(1.8); // still backing off
        await clock.AdvanceUntilAsync(poll, 5, "the retry");
        var retry = (await poll).Expect(200).Obj;
        Assert.Equal(id, retry["id"].Long());
        Assert.InRange(clock.Now - start, 1.7, 4.5); // lower bound: backoff honoured; upper: woken when due, not by client retry
    }

    [SkippableFact]
    public async Task Backoff_is_capped_by_max_interval_and_non_retryable_errors_fail_at_once()
    {
        await using var clock = await UseFakeClockAsync();
        var (_, queue, id) = await ScheduleViaRestAsync(("max_attempts", 5), ("initial_interval_secs", 30), ("max_interval_secs", 0.2));
        (await PollActivityAsync(queue, "w")).Expect(200);
        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "x")))).Expect(200);
        var poll = PollActivityAsync(queue, "w", wait: 5);
        var waited = await clock.AdvanceUntilAsync(poll, 5, "the retry");
        (await poll).Expect(200);
        Assert.True(waited < 2, "max_interval_secs caps the backoff");

        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "fatal"), ("non_retryable", true)))).Expect(200);
        Assert.Equal("FAILED", (await C.GetAsync($"/activities/{id}")).Obj["status"].Str());

        var (wf2, q2, id2) = await ScheduleViaRestAsync(("max_attempts", 5), ("non_retryable_error_types", A("BadInput")));
        (await PollActivityAsync(q2, "w")).Expect(200);
        (await C.PostAsync($"/tasks/{id2}/fail", O(("error", "bad"), ("error_type", "BadInput")))).Expect(200);
        Assert.Equal("FAILED", (await C.GetAsync($"/activities/{id2}")).Obj["status"].Str());
        Assert.Contains("ActivityFailed", await EventTypesAsync(wf2));
    }

    [SkippableFact]
    public async Task Heartbeat_timeout_retries_then_reports_failure_to_the_workflow()
    {
        await using var clock = await UseFakeClockAsync();
        var (wf, queue, id) = await ScheduleViaRestAsync(("max_attempts", 2), ("heartbeat_timeout_secs", 0.5), ("initial_interval_secs", 0));
        (await PollActivityAsync(queue, "w")).Expect(200);
        var hb = (await C.PostAsync($"/tasks/{id}/heartbeat", O(("details", O(("progress", 0.5)))))).Expect(200).Obj;
        Assert.False(hb["cancel_requested"]!.GetValue<bool>());
        // Silence: after 0.5 s the attempt times out and is re-queued as attempt 2.
        var poll = PollActivityAsync(queue, "w", wait: 5);
        clock.Jump(0.4); // not yet timed out
        await clock.AdvanceUntilAsync(poll, 5, "the second attempt");
        var retry = (await poll).Expect(200).Obj;
        Assert.Equal(2, retry["attempt"].Long());
        // The old attempt's late completion is refused (status check + attempt check).
        (await C.PostAsync($"/tasks/{id}/complete", O(("result", 1), ("attempt", 1)))).Expect(409);

        clock.Jump(0.4);
        await clock.AdvanceUntilAsync(async () => (await C.GetAsync($"/activities/{id}")).Obj["status"].Str() == "FAILED", 5, "final heartbeat timeout");
        var failed = (await EventsAsync(wf)).Single(e => e["event_type"].Str() == "ActivityFailed")["payload"].Decode()!;
        Assert.Equal("heartbeat", failed["timeout_type"].Str());
        Assert.Equal(2, failed["final_attempt"].Long());
        // The workflow is woken to decide (not silently failed as in the reference).
        var wq = (await DescribeAsync(wf))["task_queue"].Str();
        var task = (await PollWorkflowTaskAsync(wq, "wf-worker")).Expect(200).Obj;
        Assert.Contains(task["history"]!.AsArray(), e => e!["event_type"].Str() == "ActivityFailed");
    }

    [SkippableFact]
    public async Task Start_to_close_timeout_fails_a_silent_activity()
    {
        await using var clock = await UseFakeClockAsync();
        var (wf, queue, id) = await ScheduleViaRestAsync(("max_attempts", 1), ("start_to_close_secs", 0.5));
        (await PollActivityAsync(queue, "w")).Expect(200);
        clock.Jump(0.4); // not yet timed out
        var waited = 0.4 + await clock.AdvanceUntilAsync(async () => (await C.GetAsync($"/activities/{id}")).Obj["status"].Str() == "FAILED", 5,
            "start-to-close timeout");
        Assert.True(waited < 2);
        var failed = (await EventsAsync(wf)).Single(e => e["event_type"].Str() == "ActivityFailed")["payload"].Decode()!;
        Assert.Equal("start_to_close", failed["timeout_type"].Str());
    }

    [SkippableFact]
    public async Task Outcomes_only_from_the_running_attempt()
    {
        var (wf, queue, id) = await ScheduleViaRestAsync(("max_attempts", 3));
        Assert.Contains("PENDING", (await C.PostAsync($"/tasks/{id}/complete", O(("result", 1)))).Expect(409).Error);
        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "x")))).Expect(409);
        (await PollActivityAsync(queue, "owner")).Expect(200);
        Assert.Contains("another worker", (await C.PostAsync($"/tasks/{id}/complete", O(("result", 1), ("worker_id", "intruder")))).Expect(409).Error);
        (await C.PostAsync($"/tasks/{id}/heartbeat", O(("worker_id", "intruder")))).Expect(409);
        (await C.PostAsync($"/tasks/{id}/complete", O(("result", 1), ("worker_id", "owner"), ("attempt", 1)))).Expect(200);
        (await C.PostAsync($"/tasks/{id}/complete", O(("result", 2)))).Expect(409);
        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "late")))).Expect(409);
        (await C.PostAsync($"/tasks/{id}/fail", "{}")).Expect(400); // error is required
        Assert.Single(await EventsAsync(wf), e => e["event_type"].Str() == "ActivityCompleted");
        Assert.Equal("COMPLETED", (await C.GetAsync($"/activities/{id}")).Obj["status"].Str());
    }

    [SkippableFact]
    public async Task Heartbeat_reports_cancellation_and_nil_results_complete()
    {
        var (wf, queue, id) = await ScheduleViaRestAsync();
        (await PollActivityAsync(queue, "w")).Expect(200);
        Assert.False((await C.PostAsync($"/tasks/{id}/heartbeat", "[]")).Expect(200).Obj["cancel_requested"]!.GetValue<bool>());
        (await C.PostAsync($"/workflows/{wf}/cancel")).Expect(200);
        Assert.True((await C.PostAsync($"/tasks/{id}/heartbeat", O(("details", "still going")))).Expect(200).Obj["cancel_requested"]!.GetValue<bool>());
        // An activity that returned nil: the Lua client sends `[]`.
        (await C.PostAsync($"/tasks/{id}/complete", "[]")).Expect(200);
        var done = (await EventsAsync(wf)).Single(e => e["event_type"].Str() == "ActivityCompleted")["payload"].Decode()!;
        Assert.Null(done["result"]);
    }
}

public sealed class SqliteActivityTests(SqliteEngineFixture fx) : ActivityTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresActivityTests(PostgresEngineFixture fx) : ActivityTests(fx), IClassFixture<PostgresEngineFixture>;
