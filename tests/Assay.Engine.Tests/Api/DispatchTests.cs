namespace Assay.Engine.Tests.Api;

/// <summary>docs/engine.md "Workflow tasks and leases" and "Commands": workflow-task leases and command batches, plus terminate / continue-as-new / queries.</summary>
public abstract class DispatchTests(EngineFixture fx) : TestBase(fx)
{
    [SkippableFact]
    public async Task Poll_returns_parsed_input_history_and_lease()
    {
        var (id, queue, task) = await StartAndClaimAsync("Hello", O(("hello", "world")));
        Assert.Equal("Hello", task["workflow_type"].Str());
        Assert.Equal("world", task["input"]!["hello"].Str()); // parsed here, unlike the record
        Assert.Equal("main", task["namespace"].Str());
        var history = task["history"]!.AsArray();
        Assert.Equal("WorkflowStarted", history[0]!["event_type"].Str());
        Assert.Equal("world", history[0]!["payload"]!["hello"].Str());
        Assert.False(string.IsNullOrEmpty(task["lease_token"].Str()));
        Assert.Equal("RUNNING", (await DescribeAsync(id))["status"].Str());
        // Exclusive: a second worker gets the empty shape.
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-other")).Body);
    }

    [SkippableFact]
    public async Task Schedule_activity_command_then_no_redispatch()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        (await SubmitAsync(id, "w-test", ScheduleActivity(1, "step", Uid("aq")))).Expect(200);
        Assert.Contains("ActivityScheduled", await EventTypesAsync(id));
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-test")).Body);
    }

    [SkippableFact]
    public async Task Wakeups_during_a_lease_are_not_lost()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        var act = (await C.PostAsync($"/workflows/{id}/activities", O(("name", "a"), ("seq", 1), ("task_queue", aq)))).Expect(201).Obj["id"].Long();
        (await PollActivityAsync(aq, "aw")).Expect(200);
        (await C.PostAsync($"/tasks/{act}/complete", O(("result", 5)))).Expect(200);
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-other")).Body); // still leased
        (await SubmitAsync(id, "w-test")).Expect(200); // empty batch releases the lease
        var again = (await PollWorkflowTaskAsync(queue, "w-other")).Expect(200).Obj;
        Assert.Contains(again["history"]!.AsArray(), e => e!["event_type"].Str() == "ActivityCompleted");
    }

    [SkippableFact]
    public async Task Complete_workflow()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        (await SubmitAsync(id, "w-test", O(("type", "CompleteWorkflow"), ("result", O(("steps", 0)))))).Expect(200);
        var wf = await DescribeAsync(id);
        Assert.Equal("COMPLETED", wf["status"].Str());
        Assert.Equal("{\"steps\":0}", wf["result"].Str());
        Assert.NotNull(wf["completed_at"]);
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-test")).Body);
        Assert.Equal("WorkflowCompleted", (await EventTypesAsync(id))[^1]);
    }

    [SkippableFact]
    public async Task Expired_lease_is_recovered_and_the_stale_worker_rejected()
    {
        await using var clock = await UseFakeClockAsync();
        var (id, queue, _) = await StartAndClaimAsync();
        var start = clock.Now;
        var poll = PollWorkflowTaskAsync(queue, "w-b", wait: 8);
        clock.Jump(1.8); // the lease still holds: nothing to recover yet
        await clock.AdvanceUntilAsync(poll, 6, "the recovered task");
        var recovered = (await poll).Expect(200).Obj;
        Assert.Equal(id, recovered["workflow_id"].Str());
        Assert.InRange(clock.Now - start, 1.5, 4); // lease timeout is 2 s in the test fixture
        Assert.Contains("not held", (await SubmitAsync(id, "w-test", O(("type", "CompleteWorkflow")))).Expect(409).Error);
        (await SubmitAsync(id, "w-b", O(("type", "CompleteWorkflow")))).Expect(200);
        Assert.Equal("COMPLETED", (await DescribeAsync(id))["status"].Str());
    }

    [SkippableFact]
    public async Task Lease_token_and_extension()
    {
        await using var clock = await UseFakeClockAsync();
        var (id, queue, task) = await StartAndClaimAsync();
        var token = task["lease_token"].Str();
        (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "w-test"), ("lease_token", "forged"), ("commands", A())))).Expect(409);
        // Extending keeps the task past the 2 s lease.
        for (var i = 0; i < 3; i++)
        {
            await clock.RunAsync(1);
            var ext = (await C.PostAsync($"/workflow-tasks/{id}/heartbeat", O(("worker_id", "w-test"), ("lease_token", token)))).Expect(200).Obj;
            Assert.True(ext["lease_expires_at"].Num() > clock.Now);
        }
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-b")).Body);
        (await C.PostAsync($"/workflow-tasks/{id}/heartbeat", O(("worker_id", "w-b")))).Expect(409);
        (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "w-test"), ("lease_token", token),
            ("commands", A(O(("type", "CompleteWorkflow"))))))).Expect(200);
    }

    [SkippableFact]
    public async Task Invalid_batch_leaves_no_trace()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        var bad = (await SubmitAsync(id, "w-test", ScheduleActivity(1, "a", aq), O(("type", "Bogus")))).Expect(400);
        Assert.Contains("command 2", bad.Error);
        var types = await EventTypesAsync(id);
        Assert.DoesNotContain("ActivityScheduled", types);
        Assert.Equal("WorkflowTaskFailed", types[^1]);
        Assert.Equal("{\"task\":null}", (await PollActivityAsync(aq, "w")).Body);
        // The lease was released (the next worker can take the workflow as soon as something happens).
        (await C.PostAsync($"/workflows/{id}/signal/retry", "{}")).Expect(200);
        var task = (await PollWorkflowTaskAsync(queue, "w-b")).Expect(200).Obj;
        (await SubmitAsync(id, "w-b", ScheduleActivity(1, "a", aq), O(("type", "ScheduleTimer"), ("duration_secs", 1)))).Expect(400); // timer without seq
        (await SubmitAsync(id, "w-b", O(("type", "CompleteWorkflow")), ScheduleActivity(1, "a", aq))).Expect(409); // lease gone after the first rejection
        Assert.NotNull(task);
    }

    [SkippableFact]
    public async Task Commands_after_a_terminal_state_change_nothing()
    {
        var (id, _, _) = await StartAndClaimAsync();
        (await C.PostAsync($"/workflows/{id}/terminate", O(("reason", "ops")))).Expect(200);
        (await SubmitAsync(id, "w-test", O(("type", "CompleteWorkflow"), ("result", 1)))).Expect(409);
        var wf = await DescribeAsync(id);
        Assert.Equal("FAILED", wf["status"].Str());
        Assert.Equal("ops", wf["error"].Str());
        Assert.Null(wf["result"]);
    }

    [SkippableFact]
    public async Task Terminate_cancels_work_and_records_an_event()
    {
        var (id, _, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        (await SubmitAsync(id, "w-test", ScheduleActivity(1, "a", aq), ScheduleActivity(2, "b", aq),
            O(("type", "ScheduleTimer"), ("seq", 1), ("duration_secs", 60)))).Expect(200);
        var running = (await PollActivityAsync(aq, "aw")).Expect(200).Obj["id"].Long();
        (await C.PostAsync($"/workflows/{id}/terminate", O(("reason", "stop now")))).Expect(200);
        Assert.Equal("WorkflowTerminated", (await EventTypesAsync(id))[^1]);
        Assert.Equal("{\"task\":null}", (await PollActivityAsync(aq, "aw")).Body); // pending one cancelled
        Assert.True((await C.PostAsync($"/tasks/{running}/heartbeat", "{}")).Expect(200).Obj["cancel_requested"]!.GetValue<bool>());
        (await C.PostAsync($"/tasks/{running}/complete", O(("result", 1)))).Expect(409);
        (await C.PostAsync($"/workflows/{id}/terminate", "{}")).Expect(409);
        (await C.PostAsync($"/workflows/{id}/signal/x", "{}")).Expect(409);
    }

    [SkippableFact]
    public async Task Rest_continue_as_new_links_the_runs()
    {
        var id = await StartAsync("Counter", O(("n", 0)), searchAttributes: O(("tenant", "a")));
        var next = (await C.PostAsync($"/workflows/{id}/continue-as-new", O(("input", O(("n", 1)))))).Expect(201).Obj;
        var newId = next["workflow_id"].Str();
        Assert.StartsWith(id + "-continued-", newId);
        Assert.Equal("PENDING", next["status"].Str());
        var old = await DescribeAsync(id);
        Assert.Equal("COMPLETED", old["status"].Str());
        Assert.Equal(newId, old["continued_to"].Str());
        var ev = (await EventsAsync(id))[^1];
        Assert.Equal("WorkflowContinuedAsNew", ev["event_type"].Str());
        Assert.Equal(newId, ev["payload"].Decode()!["new_workflow_id"].Str());
        var fresh = await DescribeAsync(newId);
        Assert.Equal(1, fresh["input"].Decode()!["n"].Long());
        Assert.Equal(id, fresh["continued_from"].Str());
        Assert.Equal("{\"tenant\":\"a\"}", fresh["search_attributes"].Str());
        // A finished run cannot be continued (the reference silently rewrote it to COMPLETED).
        (await C.PostAsync($"/workflows/{id}/continue-as-new", "{}")).Expect(409);
        // Two continuations in the same second get distinct ids.
        var again = (await C.PostAsync($"/workflows/{newId}/continue-as-new", "{}")).Expect(201).Obj["workflow_id"].Str();
        Assert.NotEqual(newId, again);
    }

    [SkippableFact]
    public async Task Snapshots_side_effects_signals_and_search_attributes()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        (await C.GetAsync($"/workflows/{id}/state")).Expect(404);
        (await SubmitAsync(id, "w-test",
            O(("type", "RecordSnapshot"), ("state", O(("stage", "one"), ("progress", 0.5)))),
            O(("type", "UpsertSearchAttributes"), ("patch", O(("stage", "one")))),
            O(("type", "RecordSideEffect"), ("seq", 1), ("name", "uuid"), ("value", "abc")))).Expect(200);
        var state = (await C.GetAsync($"/workflows/{id}/state")).Expect(200).Obj;
        Assert.Equal("one", state["state"]!["stage"].Str());
        Assert.Equal(0.5, (await C.GetAsync($"/workflows/{id}/state/progress")).Expect(200).Obj["value"].Num());
        (await C.GetAsync($"/workflows/{id}/state/nonexistent")).Expect(404);
        Assert.Equal("{\"stage\":\"one\"}", (await DescribeAsync(id))["search_attributes"].Str());

        // The side effect re-dispatches at once; a duplicate of the same seq is ignored.
        (await PollWorkflowTaskAsync(queue, "w-test")).Expect(200);
        (await SubmitAsync(id, "w-test", O(("type", "RecordSideEffect"), ("seq", 1), ("name", "uuid"), ("value", "DIFFERENT")),
            O(("type", "UpsertSearchAttributes"), ("patch", A())), // Lua's empty table: nothing to merge
            O(("type", "WaitForSignal"), ("name", "go")))).Expect(200);
        var effects = (await EventsAsync(id)).Where(e => e["event_type"].Str() == "SideEffectRecorded").ToList();
        Assert.Single(effects);
        Assert.Equal("abc", effects[0]["payload"].Decode()!["value"].Str());
        Assert.Equal("WorkflowAwaitingSignal", (await EventTypesAsync(id))[^1]);
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-test")).Body);

        (await C.PostAsync($"/workflows/{id}/signal/go", O(("payload", O(("by", "alice")))))).Expect(200);
        var task = (await PollWorkflowTaskAsync(queue, "w-test")).Expect(200).Obj;
        var sig = task["history"]!.AsArray().Last(e => e!["event_type"].Str() == "SignalReceived")!;
        Assert.Equal("alice", sig["payload"]!["payload"]!["by"].Str());

        // Event sequence numbers are dense and unique.
        var seqs = (await EventsAsync(id)).Select(e => e["seq"].Long()).ToList();
        Assert.Equal(Enumerable.Range(1, seqs.Count).Select(i => (long)i), seqs);
    }

    [SkippableFact]
    public async Task Child_with_a_foreign_id_fails_the_start_instead_of_hanging()
    {
        var taken = await StartAsync("Unrelated");
        var (id, queue, _) = await StartAndClaimAsync();
        (await SubmitAsync(id, "w-test", O(("type", "StartChildWorkflow"), ("workflow_type", "Child"), ("workflow_id", taken)))).Expect(200);
        var task = (await PollWorkflowTaskAsync(queue, "w-test")).Expect(200).Obj;
        var failed = task["history"]!.AsArray().Single(e => e!["event_type"].Str() == "ChildWorkflowFailed")!;
        Assert.Equal("already_exists", failed["payload"]!["reason"].Str());
        Assert.Null((await DescribeAsync(taken))["parent_id"]);
    }

    Task<Reply> SubmitEagerAsync(string id, JsonNode? eager, params JsonObject[] commands) =>
        C.PostAsync($"/workflow-tasks/{id}/commands",
            O(("worker_id", "w-test"), ("eager_activities", eager), ("commands", new JsonArray(commands.Cast<JsonNode>().ToArray()))));

    [SkippableFact]
    public async Task Eager_dispatch_hands_new_activities_on_the_workflow_queue_to_the_submitter()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        var other = Uid("aq");
        var answer = (await SubmitEagerAsync(id, 1,
            ScheduleActivity(1, "a", queue, O(("n", 1))), ScheduleActivity(2, "b", queue), ScheduleActivity(3, "c", other))).Expect(200).Obj;
        // One slot: the first activity on the workflow's queue is claimed for w-test, exactly as a poll would have.
        var task = Assert.Single(answer["activity_tasks"]!.AsArray())!;
        Assert.Equal("a", task["name"].Str());
        Assert.Equal("RUNNING", task["status"].Str());
        Assert.Equal("w-test", task["claimed_by"].Str());
        Assert.Equal(1, task["attempt"].Long());
        Assert.Equal("{\"n\":1}", task["input"].Str());
        Assert.NotNull(task["started_at"]);
        // The others are left to pollers, and the claimed one is not handed out twice.
        Assert.Equal("b", (await PollActivityAsync(queue, "w2")).Expect(200).Obj["name"].Str());
        Assert.Equal("c", (await PollActivityAsync(other, "w2")).Expect(200).Obj["name"].Str());
        Assert.Equal("{\"task\":null}", (await PollActivityAsync(queue, "w2")).Body);

        // Completing it is the ordinary path (attempt and worker checked), and it wakes the workflow.
        (await C.PostAsync($"/tasks/{task["id"].Long()}/complete", O(("result", 7), ("worker_id", "w-test"), ("attempt", 1)))).Expect(200);
        var next = (await PollWorkflowTaskAsync(queue, "w-test")).Expect(200).Obj;
        Assert.Contains(next["history"]!.AsArray(), e => e!["event_type"].Str() == "ActivityCompleted");

        // A replay that schedules the same seq again gets nothing: that activity already ran.
        var replay = (await SubmitEagerAsync(id, 4, ScheduleActivity(1, "a", queue))).Expect(200).Obj;
        Assert.Empty(replay["activity_tasks"]!.AsArray());
    }

    [SkippableFact]
    public async Task Eager_dispatch_is_opt_in_and_validated()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        (await SubmitEagerAsync(id, -1, ScheduleActivity(1, "a", queue))).Expect(400);
        (await SubmitEagerAsync(id, 65, ScheduleActivity(1, "a", queue))).Expect(400);
        (await SubmitEagerAsync(id, "1", ScheduleActivity(1, "a", queue))).Expect(400);
        // Without the field (and with 0) the answer stays the reference's empty 200, and the activity goes to pollers.
        var plain = (await SubmitEagerAsync(id, 0, ScheduleActivity(1, "a", queue))).Expect(200);
        Assert.Equal("", plain.Body);
        Assert.Equal("a", (await PollActivityAsync(queue, "w2")).Expect(200).Obj["name"].Str());
    }

    [SkippableFact]
    public async Task Eager_dispatch_hands_out_nothing_when_the_batch_ends_the_workflow()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        var answer = (await SubmitEagerAsync(id, 4, ScheduleActivity(1, "a", queue), O(("type", "CompleteWorkflow")))).Expect(200).Obj;
        Assert.Empty(answer["activity_tasks"]!.AsArray());
        Assert.Equal("COMPLETED", (await DescribeAsync(id))["status"].Str());
        var activity = (await EventsAsync(id)).Single(e => e["event_type"].Str() == "ActivityScheduled")["payload"].Decode()!;
        Assert.Equal("CANCELLED", (await C.GetAsync($"/activities/{activity["activity_id"].Long()}")).Obj["status"].Str());
    }

    [SkippableFact]
    public async Task Patch_markers_are_recorded_once_per_patch_id_without_a_redispatch()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        // A marker needs its patch id; the batch is refused whole.
        Assert.Contains("patch_id", (await SubmitAsync(id, "w-test", O(("type", "RecordPatchMarker")))).Expect(400).Error);
        Assert.DoesNotContain("PatchMarkerRecorded", await EventTypesAsync(id));

        // The refused batch released the lease; the next event hands the task out again.
        (await C.PostAsync($"/workflows/{id}/signal/wake", "{}")).Expect(200);
        Assert.Equal(id, (await PollWorkflowTaskAsync(queue, "w-test")).Expect(200).Obj["workflow_id"].Str());
        (await SubmitAsync(id, "w-test",
            O(("type", "RecordPatchMarker"), ("patch_id", "add-audit")),
            O(("type", "RecordPatchMarker"), ("patch_id", "old-fix"), ("deprecated", true)),
            O(("type", "WaitForSignal"), ("name", "go")))).Expect(200);
        // Markers are bookkeeping: the code went on in the same task, nothing is handed out again for them.
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w-test")).Body);

        (await C.PostAsync($"/workflows/{id}/signal/go", "{}")).Expect(200);
        var task = (await PollWorkflowTaskAsync(queue, "w-test")).Expect(200).Obj;
        var markers = task["history"]!.AsArray().Where(e => e!["event_type"].Str() == "PatchMarkerRecorded")
            .Select(e => e!["payload"]!).ToList();
        Assert.Equal(["add-audit", "old-fix"], markers.Select(p => p["patch_id"].Str()));
        Assert.Equal([false, true], markers.Select(p => p["deprecated"]!.GetValue<bool>()));

        // A replay that raced the first batch asks again: the first marker stands, no duplicate.
        (await SubmitAsync(id, "w-test", O(("type", "RecordPatchMarker"), ("patch_id", "add-audit"), ("deprecated", true)),
            O(("type", "CompleteWorkflow")))).Expect(200);
        var recorded = (await EventsAsync(id)).Where(e => e["event_type"].Str() == "PatchMarkerRecorded").ToList();
        Assert.Equal(2, recorded.Count);
        Assert.False(recorded[0]["payload"].Decode()!["deprecated"]!.GetValue<bool>());
        Assert.Equal("COMPLETED", (await DescribeAsync(id))["status"].Str());
    }

    [SkippableFact]
    public async Task Concurrent_claims_hand_each_workflow_to_exactly_one_worker()
    {
        var queue = Uid("race");
        var ids = new List<string>();
        for (var i = 0; i < 20; i++) ids.Add(await StartAsync("Race", queue: queue));
        var claims = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => PollWorkflowTaskAsync(queue, $"w{i}")));
        var claimed = claims.Where(r => r.Body != "null").Select(r => r.Obj["workflow_id"].Str()).ToList();
        Assert.Equal(20, claimed.Count);
        Assert.Equal(ids.Order(), claimed.Order());
    }
}

public sealed class SqliteDispatchTests(SqliteEngineFixture fx) : DispatchTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresDispatchTests(PostgresEngineFixture fx) : DispatchTests(fx), IClassFixture<PostgresEngineFixture>;
