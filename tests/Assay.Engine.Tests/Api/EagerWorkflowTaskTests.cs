namespace Assay.Engine.Tests.Api;

/// <summary>docs/engine.md "Eager workflow tasks": an activity report with <c>eager_workflow_task</c> takes the workflow task
/// its outcome creates straight from the answer — leased to the reporting worker exactly as a poll of its queue would, only
/// when that worker could have polled it, and never for a client that does not ask.</summary>
public abstract class EagerWorkflowTaskTests(EngineFixture fx) : TestBase(fx)
{
    /// <summary>Starts a workflow on a private queue, claims its task as <paramref name="worker"/> (lease-bound when asked) and
    /// submits ScheduleActivity(1, "a") on <paramref name="activityQueue"/> (default: the workflow's queue) with eager
    /// dispatch when the activity is on that queue; returns the claimed activity.</summary>
    async Task<(string Id, string Queue, JsonObject Activity)> StartWithRunningActivityAsync(string worker = "w-a", bool bound = false,
        string? activityQueue = null, string type = "T", string? queue = null)
    {
        queue ??= Uid("q");
        var id = await StartAsync(type, O(("n", 1)), queue);
        var task = (await C.PostAsync("/workflow-tasks/poll", O(("queue", queue), ("worker_id", worker), ("require_lease_token", bound))))
            .Expect(200).Obj;
        Assert.Equal(id, task["workflow_id"].Str());
        var aq = activityQueue ?? queue;
        var answer = (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", worker), ("lease_token", task["lease_token"].Str()),
            ("eager_activities", 1), ("commands", A(ScheduleActivity(1, "a", aq, O(("n", 1)))))))).Expect(200).Obj;
        var activity = answer["activity_tasks"]!.AsArray().Count == 1
            ? answer["activity_tasks"]![0]!.AsObject()
            : (await PollActivityAsync(aq, worker)).Expect(200).Obj;
        return (id, queue, activity);
    }

    Task<Reply> CompleteAsync(JsonObject activity, string worker, bool eager = true, JsonArray? types = null)
    {
        var body = O(("result", 7), ("worker_id", worker), ("attempt", activity["attempt"].Long()), ("lease_token", activity["lease_token"].Str()));
        if (eager) body["eager_workflow_task"] = true;
        if (types is not null) body["workflow_types"] = types;
        return C.PostAsync($"/tasks/{activity["id"].Long()}/complete", body);
    }

    [SkippableFact]
    public async Task A_completion_hands_the_next_workflow_task_to_the_reporting_worker()
    {
        var (id, queue, activity) = await StartWithRunningActivityAsync("w-a", bound: true);
        var task = (await CompleteAsync(activity, "w-a")).Expect(200).Obj["workflow_task"]!.AsObject();
        // The same shape a poll answers: the whole history, with the outcome that created the task.
        Assert.Equal(id, task["workflow_id"].Str());
        Assert.Equal(queue, task["task_queue"].Str());
        Assert.Equal("T", task["workflow_type"].Str());
        Assert.Equal(1, task["input"]!["n"].Long());
        Assert.Equal(["WorkflowStarted", "ActivityScheduled", "ActivityCompleted"],
            task["history"]!.AsArray().Select(e => e!["event_type"].Str()));
        Assert.Equal(7, task["history"]![2]!["payload"]!["result"].Long());
        var token = task["lease_token"].Str();
        Assert.False(string.IsNullOrEmpty(token));
        Assert.True(task["lease_expires_at"].Num() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        // Leased to w-a: no poller gets it, nobody else may report on it, and (claimed under a lease-bound attempt) it is
        // bound too: the token is required.
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-b")).Body);
        (await SubmitAsync(id, "w-b", O(("type", "CompleteWorkflow")))).Expect(409);
        Assert.Contains("require_lease_token", (await SubmitAsync(id, "w-a", O(("type", "CompleteWorkflow")))).Expect(409).Error);
        (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "w-a"), ("lease_token", token),
            ("commands", A(O(("type", "CompleteWorkflow"), ("result", 7))))))).Expect(200);
        Assert.Equal("COMPLETED", (await DescribeAsync(id))["status"].Str());
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-b")).Body);
    }

    [SkippableFact]
    public async Task Reports_without_the_field_keep_the_empty_answer_and_the_task_goes_to_pollers()
    {
        // The seed client never asks: its complete and fail answers stay empty, and the workflow task waits for a poll.
        var (id, queue, activity) = await StartWithRunningActivityAsync("w-a");
        var plain = (await C.PostAsync($"/tasks/{activity["id"].Long()}/complete", O(("result", 7))));
        plain.Expect(200);
        Assert.Equal("", plain.Body);
        Assert.Equal(id, (await PollWorkflowTaskAsync(queue, "w-b")).Expect(200).Obj["workflow_id"].Str());

        var (id2, queue2, activity2) = await StartWithRunningActivityAsync("w-a");
        var failed = await C.PostAsync($"/tasks/{activity2["id"].Long()}/fail", O(("error", "boom"), ("non_retryable", true)));
        failed.Expect(200);
        Assert.Equal("", failed.Body);
        Assert.Equal(id2, (await PollWorkflowTaskAsync(queue2, "w-b")).Expect(200).Obj["workflow_id"].Str());

        // Asking with false is the same as not asking.
        var (id3, queue3, activity3) = await StartWithRunningActivityAsync("w-a");
        var no = await C.PostAsync($"/tasks/{activity3["id"].Long()}/complete", O(("result", 1), ("eager_workflow_task", false)));
        Assert.Equal("", no.Expect(200).Body);
        Assert.Equal(id3, (await PollWorkflowTaskAsync(queue3, "w-b")).Expect(200).Obj["workflow_id"].Str());
    }

    [SkippableFact]
    public async Task Only_a_task_the_worker_could_have_polled_is_handed_over()
    {
        // Another queue: the activity ran on a queue the workflow is not on, so its worker may not serve the workflow.
        var (id, queue, activity) = await StartWithRunningActivityAsync("w-a", activityQueue: Uid("aq"));
        Assert.Null((await CompleteAsync(activity, "w-a")).Expect(200).Obj["workflow_task"]);
        Assert.Equal(id, (await PollWorkflowTaskAsync(queue, "w-b")).Expect(200).Obj["workflow_id"].Str());

        // A type it did not list (type-aware dispatch): left for a worker that runs it.
        (id, queue, activity) = await StartWithRunningActivityAsync("w-a", type: "Billing");
        Assert.Null((await CompleteAsync(activity, "w-a", types: A("Shipping", "Audit"))).Expect(200).Obj["workflow_task"]);
        Assert.Equal(id, (await PollWorkflowTaskAsync(queue, "w-b")).Expect(200).Obj["workflow_id"].Str());
        // ... and one it listed is.
        (id, _, activity) = await StartWithRunningActivityAsync("w-a", type: "Billing");
        Assert.Equal(id, (await CompleteAsync(activity, "w-a", types: A("Shipping", "Billing"))).Expect(200).Obj["workflow_task"]!["workflow_id"].Str());
    }

    [SkippableFact]
    public async Task Nothing_is_handed_over_while_the_workflow_is_leased_or_a_higher_priority_task_waits()
    {
        // Two activities run at once on w-a; the first completion hands the workflow to w-a, which still holds it (replaying)
        // when the second completes: the second outcome waits for that lease to be released, as with polls.
        var queue = Uid("q");
        var id = await StartAsync("T", null, queue);
        var task = (await PollWorkflowTaskAsync(queue, "w-a")).Expect(200).Obj;
        var batch = (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "w-a"), ("lease_token", task["lease_token"].Str()),
            ("eager_activities", 2), ("commands", A(ScheduleActivity(1, "a", queue), ScheduleActivity(2, "b", queue)))))).Expect(200).Obj;
        var acts = batch["activity_tasks"]!.AsArray().Select(a => a!.AsObject()).ToList();
        Assert.Equal(2, acts.Count);
        var first = (await CompleteAsync(acts[0], "w-a")).Expect(200).Obj["workflow_task"]!.AsObject();
        Assert.Null((await CompleteAsync(acts[1], "w-a")).Expect(200).Obj["workflow_task"]);
        (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "w-a"), ("lease_token", first["lease_token"].Str()),
            ("commands", A())))).Expect(200);
        var again = (await PollWorkflowTaskAsync(queue, "w-b")).Expect(200).Obj;
        Assert.Equal(2, again["history"]!.AsArray().Count(e => e!["event_type"].Str() == "ActivityCompleted"));

        // A workflow task of higher priority waiting on the queue goes first (to a poller); ours joins the queue behind it.
        var (low, lowQueue, activity) = await StartWithRunningActivityAsync("w-a");
        var urgent = Uid("urgent");
        (await C.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", urgent), ("task_queue", lowQueue), ("priority", 1)))).Expect(201);
        Assert.Null((await CompleteAsync(activity, "w-a")).Expect(200).Obj["workflow_task"]);
        Assert.Equal(urgent, (await PollWorkflowTaskAsync(lowQueue, "w-b")).Expect(200).Obj["workflow_id"].Str());
        Assert.Equal(low, (await PollWorkflowTaskAsync(lowQueue, "w-b")).Expect(200).Obj["workflow_id"].Str());
    }

    [SkippableFact]
    public async Task A_task_the_worker_handed_back_is_not_handed_over_to_it_during_the_backoff()
    {
        var (id, queue, activity) = await StartWithRunningActivityAsync("w-a");
        // w-a takes the workflow, finds it lacks the type and hands it back with a backoff.
        (await C.PostAsync($"/workflows/{id}/signal/go", "{}")).Expect(200);
        var task = (await PollWorkflowTaskAsync(queue, "w-a")).Expect(200).Obj;
        (await C.PostAsync($"/workflow-tasks/{id}/release", O(("worker_id", "w-a"), ("lease_token", task["lease_token"].Str()),
            ("backoff_secs", 60), ("reason", "unhandled_type")))).Expect(200);
        Assert.Null((await CompleteAsync(activity, "w-a")).Expect(200).Obj["workflow_task"]);
        Assert.Equal(id, (await PollWorkflowTaskAsync(queue, "w-b")).Expect(200).Obj["workflow_id"].Str());
    }

    [SkippableFact]
    public async Task A_final_failure_hands_over_and_a_retried_attempt_does_not()
    {
        var (id, _, activity) = await StartWithRunningActivityAsync("w-a");
        var body = O(("error", "transient"), ("worker_id", "w-a"), ("attempt", 1), ("lease_token", activity["lease_token"].Str()),
            ("eager_workflow_task", true));
        // Attempts remain: the activity is retried, nothing new for the workflow.
        Assert.Null((await C.PostAsync($"/tasks/{activity["id"].Long()}/fail", body)).Expect(200).Obj["workflow_task"]);
        Assert.DoesNotContain("ActivityFailed", await EventTypesAsync(id));

        (id, _, activity) = await StartWithRunningActivityAsync("w-a");
        body = O(("error", "fatal"), ("non_retryable", true), ("worker_id", "w-a"), ("lease_token", activity["lease_token"].Str()),
            ("eager_workflow_task", true));
        var task = (await C.PostAsync($"/tasks/{activity["id"].Long()}/fail", body)).Expect(200).Obj["workflow_task"]!.AsObject();
        Assert.Equal(id, task["workflow_id"].Str());
        Assert.Equal("ActivityFailed", task["history"]!.AsArray()[^1]!["event_type"].Str());
    }

    [SkippableFact]
    public async Task The_request_is_validated()
    {
        var (_, _, activity) = await StartWithRunningActivityAsync("w-a");
        var path = $"/tasks/{activity["id"].Long()}/complete";
        (await C.PostAsync(path, O(("result", 1), ("eager_workflow_task", "yes"), ("worker_id", "w-a")))).Expect(400);
        Assert.Contains("worker_id", (await C.PostAsync(path, O(("result", 1), ("eager_workflow_task", true)))).Expect(400).Error);
        (await C.PostAsync(path, O(("result", 1), ("eager_workflow_task", true), ("worker_id", "w-a"), ("workflow_types", A())))).Expect(400);
        // Nothing was recorded by the refused reports: the attempt still runs and can complete.
        Assert.Equal("RUNNING", (await C.GetAsync($"/activities/{activity["id"].Long()}")).Expect(200).Obj["status"].Str());
        (await CompleteAsync(activity, "w-a")).Expect(200);
    }

    [SkippableFact]
    public async Task A_crashed_holder_of_a_handed_over_task_loses_it_and_the_next_worker_replays_the_whole_history()
    {
        await using var clock = await UseFakeClockAsync();
        var (id, queue, activity) = await StartWithRunningActivityAsync("w-a", bound: true);
        var task = (await CompleteAsync(activity, "w-a")).Expect(200).Obj["workflow_task"]!.AsObject();
        using (var http = new HttpClient())
            Assert.Contains("assay_eager_workflow_tasks_total 1\n", await http.GetStringAsync(clock.Engine.BaseUrl + "/metrics"));
        // w-a dies holding it. Its lease (2 s in the test fixture) runs out and the task goes to the next poller.
        var poll = C.PostAsync("/workflow-tasks/poll", O(("queue", queue), ("worker_id", "w-b"), ("wait_secs", 8), ("require_lease_token", true)));
        await clock.AdvanceUntilAsync(poll, 6, "the recovered task");
        var recovered = (await poll).Expect(200).Obj;
        Assert.Equal(id, recovered["workflow_id"].Str());
        Assert.Equal(["WorkflowStarted", "ActivityScheduled", "ActivityCompleted"],
            recovered["history"]!.AsArray().Select(e => e!["event_type"].Str()));
        // The replay on w-b decides the same next step; w-a's late submission is refused and changes nothing.
        (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "w-a"), ("lease_token", task["lease_token"].Str()),
            ("commands", A(O(("type", "FailWorkflow"), ("error", "stale"))))))).Expect(409);
        (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "w-b"), ("lease_token", recovered["lease_token"].Str()),
            ("commands", A(O(("type", "CompleteWorkflow"), ("result", 7))))))).Expect(200);
        var wf = await DescribeAsync(id);
        Assert.Equal("COMPLETED", wf["status"].Str());
        Assert.Equal("7", wf["result"].Str());
        Assert.Equal(1, (await EventTypesAsync(id)).Count(t => t == "WorkflowCompleted"));
    }
}

public sealed class SqliteEagerWorkflowTaskTests(SqliteEngineFixture fx) : EagerWorkflowTaskTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresEagerWorkflowTaskTests(PostgresEngineFixture fx) : EagerWorkflowTaskTests(fx), IClassFixture<PostgresEngineFixture>;
