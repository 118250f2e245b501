using System.Diagnostics;

namespace Assay.Engine.Tests.Api;

/// <summary>Hand-back of claimed tasks: POST /workflow-tasks/{id}/release and /tasks/{id}/release (issue 19).</summary>
public abstract class ReleaseTests(EngineFixture fx) : TestBase(fx)
{
    Task<Reply> ReleaseWorkflowTaskAsync(string id, string worker, string? token, params (string, JsonNode?)[] extra)
    {
        var body = O(("worker_id", worker), ("lease_token", token));
        foreach (var (k, v) in extra) body[k] = v;
        return C.PostAsync($"/workflow-tasks/{id}/release", body);
    }

    Task<Reply> ReleaseActivityAsync(long id, string worker, long? attempt, params (string, JsonNode?)[] extra)
    {
        var body = O(("worker_id", worker), ("attempt", attempt));
        foreach (var (k, v) in extra) body[k] = v;
        return C.PostAsync($"/tasks/{id}/release", body);
    }

    [SkippableFact]
    public async Task Released_workflow_task_is_claimable_at_once_and_untouched()
    {
        var (id, queue, task) = await StartAndClaimAsync("Other");
        var before = await EventTypesAsync(id);
        (await ReleaseWorkflowTaskAsync(id, "w-test", task["lease_token"].Str(), ("reason", "shutdown"))).Expect(200);
        Assert.Equal(before, await EventTypesAsync(id)); // nothing recorded: untouched
        var again = (await PollWorkflowTaskAsync(queue, "w-other")).Expect(200).Obj;
        Assert.Equal(id, again["workflow_id"].Str());
        Assert.Null((await DescribeAsync(id))["unhandled"]); // a shutdown hand-back is not a missing type
        // The old lease is gone: the releasing worker can neither submit nor release again.
        Assert.Contains("not held", (await SubmitAsync(id, "w-test", O(("type", "CompleteWorkflow")))).Expect(409).Error);
        (await ReleaseWorkflowTaskAsync(id, "w-test", task["lease_token"].Str())).Expect(409);
        (await SubmitAsync(id, "w-other", O(("type", "CompleteWorkflow")))).Expect(200);
        Assert.Equal("COMPLETED", (await DescribeAsync(id))["status"].Str());
    }

    [SkippableFact]
    public async Task Workflow_release_requires_worker_and_lease_token()
    {
        var (id, _, task) = await StartAndClaimAsync();
        Assert.Contains("lease_token", (await ReleaseWorkflowTaskAsync(id, "w-test", null)).Expect(400).Error);
        Assert.Contains("worker_id", (await C.PostAsync($"/workflow-tasks/{id}/release", O(("lease_token", "x")))).Expect(400).Error);
        (await ReleaseWorkflowTaskAsync(id, "w-test", "forged")).Expect(409);
        (await ReleaseWorkflowTaskAsync(id, "w-intruder", task["lease_token"].Str())).Expect(409);
        (await ReleaseWorkflowTaskAsync("no-such-workflow", "w-test", "x")).Expect(404);
        var token = task["lease_token"].Str();
        Assert.Contains("backoff_secs", (await ReleaseWorkflowTaskAsync(id, "w-test", token, ("backoff_secs", -1))).Expect(400).Error);
        Assert.Contains("backoff_secs", (await ReleaseWorkflowTaskAsync(id, "w-test", token, ("backoff_secs", 301))).Expect(400).Error);
        Assert.Contains("reason", (await ReleaseWorkflowTaskAsync(id, "w-test", token, ("reason", "bored"))).Expect(400).Error);
        // None of the refused calls released the lease.
        (await SubmitAsync(id, "w-test", O(("type", "CompleteWorkflow")))).Expect(200);
    }

    [SkippableFact]
    public async Task Unhandled_type_backs_off_for_the_releasing_worker_only_and_is_visible()
    {
        await using var clock = await UseFakeClockAsync();
        var (id, queue, task) = await StartAndClaimAsync("Other");
        (await ReleaseWorkflowTaskAsync(id, "w-test", task["lease_token"].Str(), ("reason", "unhandled_type"), ("backoff_secs", 1.5))).Expect(200);
        var wf = await DescribeAsync(id);
        var note = wf["unhandled"]!.AsObject();
        Assert.Equal("workflow", note["kind"].Str());
        Assert.Equal("Other", note["name"].Str());
        Assert.Equal(queue, note["task_queue"].Str());
        Assert.Equal("w-test", note["worker_id"].Str());
        Assert.True(note["at"].Num() > 0);

        // The releasing worker is not offered it during the backoff …
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-test")).Body);
        // … another worker is, at once; it hands it back too (it lacks the type as well).
        var other = (await PollWorkflowTaskAsync(queue, "w-second")).Expect(200).Obj;
        (await ReleaseWorkflowTaskAsync(id, "w-second", other["lease_token"].Str(), ("reason", "unhandled_type"), ("backoff_secs", 30))).Expect(200);
        Assert.Equal("w-second", (await DescribeAsync(id))["unhandled"]!["worker_id"].Str());
        // Each releaser keeps its own backoff: w-second's does not lift w-test's early, and no one spins on it.
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-test")).Body);
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-second")).Body);
        // After its backoff, a long poll of the first worker gets it back.
        var start = clock.Now;
        var poll = PollWorkflowTaskAsync(queue, "w-test", wait: 5);
        clock.Jump(1.2); // w-test still backs off
        await clock.AdvanceUntilAsync(poll, 5, "the task back after the backoff");
        var back = (await poll).Expect(200).Obj;
        Assert.Equal(id, back["workflow_id"].Str());
        Assert.InRange(clock.Now - start, 0.2, 3.5);
        // A worker that handles it clears the note.
        (await SubmitAsync(id, "w-test", O(("type", "CompleteWorkflow")))).Expect(200);
        Assert.Null((await DescribeAsync(id))["unhandled"]);
    }

    [SkippableFact]
    public async Task A_waiting_poll_of_another_worker_gets_a_released_task_without_delay()
    {
        await using var clock = await UseFakeClockAsync(); // the releaser's own poll ends when the test moves time
        var (id, queue, task) = await StartAndClaimAsync("Other");
        // Both the releasing worker and another wait on the queue: the release must reach the other one,
        // even though a single wake-up could have gone to the releaser's own poll.
        var own = PollWorkflowTaskAsync(queue, "w-test", wait: 3);
        var other = PollWorkflowTaskAsync(queue, "w-waiting", wait: 10);
        await Task.Delay(300);
        var sw = Stopwatch.StartNew();
        (await ReleaseWorkflowTaskAsync(id, "w-test", task["lease_token"].Str(), ("reason", "unhandled_type"), ("backoff_secs", 30))).Expect(200);
        var got = (await other).Expect(200).Obj;
        Assert.Equal(id, got["workflow_id"].Str());
        Assert.True(sw.Elapsed.TotalSeconds < 0.9, $"took {sw.Elapsed.TotalSeconds:0.00}s");
        clock.Jump(3);
        Assert.Equal("null", (await own).Body);
    }

    [SkippableFact]
    public async Task Released_activity_is_pending_again_on_the_same_attempt()
    {
        var (id, _, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        (await SubmitAsync(id, "w-test", ScheduleActivity(1, "charge", aq, O(("n", 1)), ("max_attempts", 1)))).Expect(200);
        var a = (await PollActivityAsync(aq, "aw-1")).Expect(200).Obj;
        var actId = a["id"].Long();
        Assert.Equal(1, a["attempt"].Long());

        Assert.Contains("attempt", (await ReleaseActivityAsync(actId, "aw-1", null)).Expect(400).Error);
        (await ReleaseActivityAsync(actId, "aw-1", 2)).Expect(409);
        (await ReleaseActivityAsync(actId, "aw-intruder", 1)).Expect(409);
        (await ReleaseActivityAsync(actId, "aw-1", 1, ("reason", "unhandled_type"), ("backoff_secs", 30))).Expect(200);

        var rec = (await C.GetAsync($"/activities/{actId}")).Expect(200).Obj;
        Assert.Equal("PENDING", rec["status"].Str());
        Assert.Equal(1, rec["attempt"].Long()); // not counted: max_attempts 1 still leaves this attempt
        var note = (await DescribeAsync(id))["unhandled"]!.AsObject();
        Assert.Equal("activity", note["kind"].Str());
        Assert.Equal("charge", note["name"].Str());
        Assert.Equal(aq, note["task_queue"].Str());
        Assert.Equal("null", JsonNodeOrNull((await PollActivityAsync(aq, "aw-1")).Obj["task"])); // backing off
        var b = (await PollActivityAsync(aq, "aw-2")).Expect(200).Obj;
        Assert.Equal(actId, b["id"].Long());
        Assert.Equal(1, b["attempt"].Long());
        (await C.PostAsync($"/tasks/{actId}/complete", O(("result", 7), ("worker_id", "aw-2"), ("attempt", 1)))).Expect(200);
        Assert.Null((await DescribeAsync(id))["unhandled"]);
        // The released attempt's worker cannot report it any more.
        (await C.PostAsync($"/tasks/{actId}/complete", O(("result", 8), ("worker_id", "aw-1"), ("attempt", 1)))).Expect(409);
    }

    [SkippableFact]
    public async Task A_lease_bound_activity_is_released_only_with_its_lease_token()
    {
        var (id, _, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        (await SubmitAsync(id, "w-test", ScheduleActivity(1, "charge", aq, O(("n", 1))))).Expect(200);
        var a = (await C.PostAsync("/tasks/poll", O(("queue", aq), ("worker_id", "aw-1"), ("require_lease_token", true)))).Expect(200).Obj;
        var actId = a["id"].Long();
        Assert.Contains("lease_token", (await ReleaseActivityAsync(actId, "aw-1", 1)).Expect(409).Error);
        (await ReleaseActivityAsync(actId, "aw-1", 1, ("lease_token", "0123456789abcdef0123456789abcdef"))).Expect(409);
        (await ReleaseActivityAsync(actId, "aw-1", 1, ("lease_token", a["lease_token"].Str()), ("reason", "unhandled_type"))).Expect(200);
        Assert.Equal("PENDING", (await C.GetAsync($"/activities/{actId}")).Expect(200).Obj["status"].Str());
    }

    [SkippableFact]
    public async Task Activity_released_after_its_workflow_finished_is_not_offered_again()
    {
        var (id, _, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        (await SubmitAsync(id, "w-test", ScheduleActivity(1, "late", aq))).Expect(200);
        var actId = (await PollActivityAsync(aq, "aw-1")).Expect(200).Obj["id"].Long();
        (await C.PostAsync($"/workflows/{id}/terminate", O(("reason", "done")))).Expect(200);
        Assert.Contains("CANCELLED", (await ReleaseActivityAsync(actId, "aw-1", 1, ("reason", "shutdown"))).Expect(409).Error);
        Assert.Equal("CANCELLED", (await C.GetAsync($"/activities/{actId}")).Obj["status"].Str());
        Assert.Equal("null", JsonNodeOrNull((await PollActivityAsync(aq, "aw-2")).Obj["task"]));
    }

    static string JsonNodeOrNull(JsonNode? n) => n?.ToJsonString() ?? "null";

    [SkippableFact]
    public async Task Release_routes_are_in_the_openapi_document()
    {
        var doc = (await C.GetAsync("/openapi.json")).Expect(200).Obj;
        var paths = doc["paths"]!.AsObject();
        Assert.Contains("lease_token", paths["/api/v1/workflow-tasks/{id}/release"]!["post"]!["summary"].Str());
        Assert.Contains("attempt", paths["/api/v1/tasks/{id}/release"]!["post"]!["summary"].Str());
    }
}

public sealed class SqliteReleaseTests(SqliteEngineFixture fx) : ReleaseTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresReleaseTests(PostgresEngineFixture fx) : ReleaseTests(fx), IClassFixture<PostgresEngineFixture>;
