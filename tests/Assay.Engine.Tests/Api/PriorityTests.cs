namespace Assay.Engine.Tests.Api;

/// <summary>docs/engine.md "Priorities and rate limits": priority on start, activities and children; dispatch takes the
/// highest priority first and is FIFO within one; what a workflow schedules inherits its priority; validation.</summary>
public abstract class PriorityTests(EngineFixture fx) : TestBase(fx)
{
    async Task<string> StartWithPriorityAsync(string queue, int? priority, string? id = null)
    {
        id ??= Uid("p");
        var body = O(("workflow_type", "P"), ("workflow_id", id), ("task_queue", queue));
        if (priority is { } p) body["priority"] = p;
        (await C.PostAsync("/workflows", body)).Expect(201);
        return id;
    }

    [SkippableFact]
    public async Task Workflow_tasks_go_highest_priority_first_and_in_order_within_one()
    {
        var queue = Uid("q");
        var started = new List<(string Id, int Priority)>();
        foreach (var p in new int?[] { 3, 5, 1, null, 2, 1, 5, 3 })
            started.Add((await StartWithPriorityAsync(queue, p), p ?? 3));
        var claimed = new List<string>();
        for (var i = 0; i < started.Count; i++)
            claimed.Add((await PollWorkflowTaskAsync(queue, "w")).Expect(200).Obj["workflow_id"].Str());
        // A stable sort by priority keeps the start order within each priority.
        Assert.Equal(started.OrderBy(s => s.Priority).Select(s => s.Id), claimed);
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w")).Body);
    }

    [SkippableFact]
    public async Task A_workflow_made_dispatchable_again_queues_behind_its_priority()
    {
        // A low-priority workflow woken by a signal waits while higher ones are dispatchable, whenever they arrived.
        var queue = Uid("q");
        var low = await StartWithPriorityAsync(queue, 5);
        (await PollWorkflowTaskAsync(queue, "w")).Expect(200);
        (await SubmitAsync(low, "w", O(("type", "WaitForSignal"), ("name", "go")))).Expect(200);
        (await C.PostAsync($"/workflows/{low}/signal/go", "{}")).Expect(200);
        var high = await StartWithPriorityAsync(queue, 2);
        Assert.Equal(high, (await PollWorkflowTaskAsync(queue, "w")).Expect(200).Obj["workflow_id"].Str());
        Assert.Equal(low, (await PollWorkflowTaskAsync(queue, "w")).Expect(200).Obj["workflow_id"].Str());
    }

    [SkippableFact]
    public async Task Activities_go_highest_priority_first_and_in_order_within_one()
    {
        var (id, _, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        var priorities = new int?[] { 4, null, 1, 2, 4, 1 };
        var scheduled = new List<(long Id, int Priority)>();
        for (var i = 0; i < priorities.Length; i++)
        {
            var body = O(("name", $"a{i}"), ("seq", i + 1), ("task_queue", aq));
            if (priorities[i] is { } p) body["priority"] = p;
            var record = (await C.PostAsync($"/workflows/{id}/activities", body)).Expect(201).Obj;
            Assert.Equal(priorities[i] ?? 3, record["priority"].Long());
            scheduled.Add((record["id"].Long(), priorities[i] ?? 3));
        }
        var claimed = new List<long>();
        for (var i = 0; i < scheduled.Count; i++)
            claimed.Add((await PollActivityAsync(aq, "aw")).Expect(200).Obj["id"].Long());
        Assert.Equal(scheduled.OrderBy(s => s.Priority).Select(s => s.Id), claimed);
    }

    [SkippableFact]
    public async Task A_higher_priority_retry_that_is_not_due_does_not_hold_back_lower_ones()
    {
        var (id, _, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        var urgent = (await C.PostAsync($"/workflows/{id}/activities",
            O(("name", "urgent"), ("seq", 1), ("task_queue", aq), ("priority", 1), ("initial_interval_secs", 60)))).Expect(201).Obj["id"].Long();
        (await PollActivityAsync(aq, "aw")).Expect(200);
        (await C.PostAsync($"/tasks/{urgent}/fail", O(("error", "flaky")))).Expect(200); // retry due in 60 s
        (await C.PostAsync($"/workflows/{id}/activities", O(("name", "normal"), ("seq", 2), ("task_queue", aq)))).Expect(201);
        Assert.Equal("normal", (await PollActivityAsync(aq, "aw")).Expect(200).Obj["name"].Str());
    }

    [SkippableFact]
    public async Task What_a_workflow_schedules_inherits_its_priority_unless_set()
    {
        var queue = Uid("q");
        var aq = Uid("aq");
        var id = await StartWithPriorityAsync(queue, 2);
        Assert.Equal(2, (await DescribeAsync(id))["priority"].Long());
        (await PollWorkflowTaskAsync(queue, "w")).Expect(200);
        var inherit = Uid("child");
        var own = Uid("child");
        (await SubmitAsync(id, "w",
            ScheduleActivity(1, "inherits", aq), ScheduleActivity(2, "own", aq, null, ("priority", 5)),
            O(("type", "StartChildWorkflow"), ("workflow_type", "C"), ("workflow_id", inherit), ("task_queue", queue)),
            O(("type", "StartChildWorkflow"), ("workflow_type", "C"), ("workflow_id", own), ("task_queue", queue), ("priority", 4)))).Expect(200);

        var activities = new Dictionary<string, long>();
        foreach (var e in (await EventsAsync(id)).Where(e => e["event_type"].Str() == "ActivityScheduled"))
        {
            var p = e["payload"].Decode()!;
            activities[p["name"].Str()] = (await C.GetAsync($"/activities/{p["activity_id"].Long()}")).Expect(200).Obj["priority"].Long();
        }
        Assert.Equal(2, activities["inherits"]);
        Assert.Equal(5, activities["own"]);
        Assert.Equal(2, (await DescribeAsync(inherit))["priority"].Long());
        Assert.Equal(4, (await DescribeAsync(own))["priority"].Long());
        // The child's own activities inherit from the child.
        Assert.Equal(inherit, (await PollWorkflowTaskAsync(queue, "w")).Expect(200).Obj["workflow_id"].Str()); // 2 before 4
        (await SubmitAsync(inherit, "w", ScheduleActivity(1, "grandchild-step", aq))).Expect(200);
        var step = (await EventsAsync(inherit)).Single(e => e["event_type"].Str() == "ActivityScheduled")["payload"].Decode()!;
        Assert.Equal(2, (await C.GetAsync($"/activities/{step["activity_id"].Long()}")).Obj["priority"].Long());
        // A continuation keeps the run's priority.
        var next = (await C.PostAsync($"/workflows/{own}/continue-as-new", "{}")).Expect(201).Obj["workflow_id"].Str();
        Assert.Equal(4, (await DescribeAsync(next))["priority"].Long());
    }

    [SkippableFact]
    public async Task Without_a_priority_everything_is_priority_3()
    {
        // The seed client sends no priority: its workflows and activities get the default, and the records say so.
        var (id, _, _) = await StartAndClaimAsync();
        Assert.Equal(3, (await DescribeAsync(id))["priority"].Long());
        var act = (await C.PostAsync($"/workflows/{id}/activities", O(("name", "a"), ("seq", 1), ("task_queue", Uid("aq"))))).Expect(201).Obj;
        Assert.Equal(3, act["priority"].Long());
        Assert.Contains((await C.GetAsync("/workflows?limit=1000")).Expect(200).Arr, w => w!["id"].Str() == id && w["priority"].Long() == 3);
    }

    [SkippableTheory]
    [InlineData("0")]
    [InlineData("6")]
    [InlineData("-1")]
    [InlineData("2.5")]
    [InlineData("\"high\"")]
    [InlineData("true")]
    public async Task Out_of_range_priorities_are_refused_naming_the_field(string priority)
    {
        var start = await C.PostAsync("/workflows", $"{{\"workflow_type\":\"P\",\"workflow_id\":\"{Uid("bad")}\",\"priority\":{priority}}}");
        Assert.Contains("'priority'", start.Expect(400).Error);
        Assert.Equal("application/json", start.ContentType);

        var (id, _, _) = await StartAndClaimAsync();
        var direct = await C.PostAsync($"/workflows/{id}/activities",
            $"{{\"name\":\"a\",\"seq\":1,\"task_queue\":\"q\",\"priority\":{priority}}}");
        Assert.Contains("'priority'", direct.Expect(400).Error);

        foreach (var command in new[]
                 {
                     $"{{\"type\":\"ScheduleActivity\",\"seq\":1,\"name\":\"a\",\"priority\":{priority}}}",
                     $"{{\"type\":\"StartChildWorkflow\",\"workflow_type\":\"C\",\"workflow_id\":\"{Uid("c")}\",\"priority\":{priority}}}",
                 })
        {
            var (wf, _, _) = await StartAndClaimAsync();
            var batch = await C.PostAsync($"/workflow-tasks/{wf}/commands", $"{{\"worker_id\":\"w-test\",\"commands\":[{command}]}}");
            var error = batch.Expect(400).Error;
            Assert.Contains("command 1", error);
            Assert.Contains("'priority'", error);
        }
    }

    [SkippableFact]
    public async Task Concurrent_pollers_claim_each_task_once_in_priority_order()
    {
        var queue = Uid("race");
        var ids = new Dictionary<string, int>();
        for (var i = 0; i < 24; i++)
        {
            var p = 1 + i % 5;
            ids[await StartWithPriorityAsync(queue, p)] = p;
        }
        // Fewer workflows than pollers: every workflow goes to exactly one of them.
        var claims = await Task.WhenAll(Enumerable.Range(0, 48).Select(i => PollWorkflowTaskAsync(queue, $"w{i}")));
        var claimed = claims.Where(r => r.Body != "null").Select(r => r.Obj["workflow_id"].Str()).ToList();
        Assert.Equal(ids.Keys.Order(), claimed.Order());

        // Activities likewise; and with more activities than one round of pollers, each round takes the most urgent ones.
        var (wf, _, _) = await StartAndClaimAsync();
        var aq = Uid("aq");
        var priorities = new Dictionary<long, long>();
        for (var i = 0; i < 30; i++)
        {
            var a = (await C.PostAsync($"/workflows/{wf}/activities",
                O(("name", "a"), ("seq", i + 1), ("task_queue", aq), ("priority", 1 + i % 5)))).Expect(201).Obj;
            priorities[a["id"].Long()] = a["priority"].Long();
        }
        var first = (await Task.WhenAll(Enumerable.Range(0, 12).Select(i => PollActivityAsync(aq, $"aw{i}"))))
            .Select(r => r.Expect(200).Obj["id"].Long()).ToList();
        Assert.Equal(12, first.Distinct().Count());
        Assert.All(first, id => Assert.True(priorities[id] <= 2, $"activity {id} of priority {priorities[id]} claimed before 1s and 2s ran out"));
        var rest = (await Task.WhenAll(Enumerable.Range(0, 40).Select(i => PollActivityAsync(aq, $"aw{i}"))))
            .Where(r => r.Body != "{\"task\":null}").Select(r => r.Obj["id"].Long()).ToList();
        Assert.Equal(priorities.Keys.Order(), first.Concat(rest).Order());
    }

    [SkippableFact]
    public async Task Eager_dispatch_leaves_an_activity_to_pollers_while_a_higher_priority_one_waits()
    {
        var (id, queue, _) = await StartAndClaimAsync();
        var (other, otherQueue, _) = await StartAndClaimAsync();
        (await C.PostAsync($"/workflows/{other}/activities", O(("name", "urgent"), ("seq", 1), ("task_queue", queue), ("priority", 1)))).Expect(201);
        var answer = (await SubmitEagerAsync(id, ScheduleActivity(1, "normal", queue))).Expect(200).Obj;
        Assert.Empty(answer["activity_tasks"]!.AsArray());
        // The activity left behind is announced to pollers, who get the urgent one first.
        Assert.Equal("urgent", (await PollActivityAsync(queue, "aw", wait: 1)).Expect(200).Obj["name"].Str());
        Assert.Equal("normal", (await PollActivityAsync(queue, "aw", wait: 1)).Expect(200).Obj["name"].Str());
        // With nothing more urgent waiting, eager dispatch hands out a low-priority activity as before.
        var eager = (await SubmitEagerAsync(other, ScheduleActivity(2, "later", otherQueue, null, ("priority", 5)))).Expect(200).Obj;
        Assert.Equal("later", Assert.Single(eager["activity_tasks"]!.AsArray())!["name"].Str());
    }

    Task<Reply> SubmitEagerAsync(string id, params JsonObject[] commands) =>
        C.PostAsync($"/workflow-tasks/{id}/commands",
            O(("worker_id", "w-test"), ("eager_activities", 2), ("commands", new JsonArray(commands.Cast<JsonNode>().ToArray()))));
}

public sealed class SqlitePriorityTests(SqliteEngineFixture fx) : PriorityTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresPriorityTests(PostgresEngineFixture fx) : PriorityTests(fx), IClassFixture<PostgresEngineFixture>;
