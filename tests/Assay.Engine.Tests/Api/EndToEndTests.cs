namespace Assay.Engine.Tests.Api;

/// <summary>End-to-end scenarios (docs/workflows.md): whole workflows driven by the harness worker over REST.
/// Seed-mode workers speak exactly like the unmodified Lua client.</summary>
public abstract class EndToEndTests(EngineFixture fx) : TestBase(fx)
{
    async Task<HarnessWorker> WorkerAsync(string queue, WorkerMode mode, Action<HarnessWorker> setup)
    {
        var w = new HarnessWorker(C.BaseUrl, queue, mode);
        setup(w);
        return await w.StartAsync();
    }

    static void TwoSteps(HarnessWorker w) => w
        .Workflow("TwoSteps", (ctx, input) =>
        {
            var first = ctx.ExecuteActivity("step1", O(("n", input!["n"]!.DeepClone())));
            var second = ctx.ExecuteActivity("step2", O(("prev", first!["value"]!.DeepClone())));
            return O(("first", first.DeepClone()), ("second", second!.DeepClone()), ("sum", first["value"].Long() + second["value"].Long()));
        })
        .Activity("step1", (_, i) => O(("value", i!["n"].Long() * 2)))
        .Activity("step2", (_, i) => O(("value", i!["prev"].Long() + 10)));

    [SkippableTheory]
    [InlineData(WorkerMode.Seed)]
    [InlineData(WorkerMode.Modern)]
    public async Task Two_sequential_activities(WorkerMode mode)
    {
        var queue = Uid("q");
        await using var w = await WorkerAsync(queue, mode, TwoSteps);
        var id = await StartAsync("TwoSteps", O(("n", 5)), queue);
        var wf = await WaitTerminalAsync(id, 10);
        Assert.Equal("COMPLETED", wf["status"].Str());
        var result = wf["result"].Decode()!;
        Assert.Equal(10, result["first"]!["value"].Long());
        Assert.Equal(20, result["second"]!["value"].Long());
        Assert.Equal(30, result["sum"].Long());
        Assert.Empty(w.Errors);
    }

    [SkippableTheory]
    [InlineData(WorkerMode.Seed)]
    [InlineData(WorkerMode.Modern)]
    public async Task Signal_wakes_a_waiting_workflow(WorkerMode mode)
    {
        var queue = Uid("q");
        await using var w = await WorkerAsync(queue, mode, x => x.Workflow("Approval", (ctx, _) =>
        {
            var approval = ctx.WaitForSignal("approve");
            return O(("approved", true), ("by", approval!["by"]!.DeepClone()));
        }));
        var id = await StartAsync("Approval", queue: queue);
        await Task.Delay(800);
        Assert.Equal("RUNNING", (await DescribeAsync(id))["status"].Str());
        Assert.Contains("WorkflowAwaitingSignal", await EventTypesAsync(id));
        (await C.PostAsync($"/workflows/{id}/signal/approve", O(("payload", O(("by", "alice")))))).Expect(200);
        var wf = await WaitTerminalAsync(id, 5);
        Assert.Equal("{\"approved\":true,\"by\":\"alice\"}", wf["result"].Str());
    }

    [SkippableFact]
    public async Task Worker_crash_mid_workflow_side_effect_runs_once()
    {
        var queue = Uid("q");
        var counter = 0;
        void Define(HarnessWorker x) => x
            .Workflow("Crashy", (ctx, _) =>
            {
                var token = ctx.SideEffect("token", () => { Interlocked.Increment(ref counter); return "tok-1"; });
                ctx.Sleep(2);
                var echoed = ctx.ExecuteActivity("echo", O(("token", token!.DeepClone())));
                return O(("token", token.DeepClone()), ("activity", echoed!.DeepClone()));
            })
            .Activity("echo", (_, i) => i!["token"]!.DeepClone());

        await using var clock = await UseFakeClockAsync();
        var id = await StartAsync("Crashy", queue: queue);
        await using (var first = await WorkerAsync(queue, WorkerMode.Seed, Define))
            await EventuallyAsync(async () => (await EventTypesAsync(id)).Contains("SideEffectRecorded"), 10, "side effect recorded");
        // The first worker is gone (mid-flight work abandoned); a new one finishes the workflow once the 2 s timer has
        // fired (and the abandoned lease, if any, has run out).
        await using var second = await WorkerAsync(queue, WorkerMode.Seed, Define);
        clock.Jump(2.5);
        await clock.AdvanceUntilAsync(async () => IsTerminal(await DescribeAsync(id)), 15, "the workflow", stepSecs: 0.1);
        var wf = await WaitTerminalAsync(id, 15);
        Assert.Equal("COMPLETED", wf["status"].Str());
        var result = wf["result"].Decode()!;
        Assert.Equal("tok-1", result["token"].Str());
        Assert.Equal("tok-1", result["activity"].Str());
        Assert.Equal(1, counter);
    }

    [SkippableFact]
    public async Task Abandoned_workflow_task_is_taken_over_after_the_lease()
    {
        await using var clock = await UseFakeClockAsync();
        var queue = Uid("q");
        var id = await StartAsync("TwoSteps", O(("n", 1)), queue);
        (await PollWorkflowTaskAsync(queue, "w-crashed")).Expect(200); // claims, then "dies"
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, TwoSteps);
        var start = clock.Now;
        clock.Jump(1.8); // the crashed worker's lease (2 s) still holds
        await clock.AdvanceUntilAsync(async () => IsTerminal(await DescribeAsync(id)), 8, "the take-over");
        var wf = await WaitTerminalAsync(id, 10);
        Assert.Equal("COMPLETED", wf["status"].Str());
        Assert.InRange(clock.Now - start, 1, 6);
    }

    [SkippableFact]
    public async Task Side_effect_across_replays_and_parallel_activities()
    {
        var queue = Uid("q");
        var counter = 0;
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, x => x
            .Workflow("Par", (ctx, _) =>
            {
                var token = ctx.SideEffect("t", () => { Interlocked.Increment(ref counter); return $"tok-{counter}"; });
                var a = ctx.ExecuteActivity("use", token);
                var b = ctx.ExecuteActivity("use", token);
                var results = ctx.ExecuteParallel(("double", 1, null), ("double", 2, null), ("double", 3, null));
                return O(("a", a!.DeepClone()), ("b", b!.DeepClone()), ("sum", results.Sum(r => r.Long())));
            })
            .Activity("use", (_, i) => i!.DeepClone())
            .Activity("double", (_, i) => i.Long() * 2));
        var id = await StartAsync("Par", queue: queue);
        var wf = await WaitTerminalAsync(id);
        var result = wf["result"].Decode()!;
        Assert.Equal(1, counter);
        Assert.Equal("tok-1", result["a"].Str());
        Assert.Equal("tok-1", result["b"].Str());
        Assert.Equal(12, result["sum"].Long());
        var events = await EventsAsync(id);
        int IndexOf(string type, Func<long, bool> seq) =>
            events.FindIndex(e => e["event_type"].Str() == type && seq(e["payload"].Decode()!["activity_seq"].Long()));
        var lastParallelScheduled = IndexOf("ActivityScheduled", s => s == 5);
        var firstParallelCompleted = IndexOf("ActivityCompleted", s => s >= 3);
        Assert.True(lastParallelScheduled < firstParallelCompleted, "all three parallel activities are scheduled before the first completes");
    }

    [SkippableFact]
    public async Task Parallel_failure_fails_the_workflow()
    {
        var queue = Uid("q");
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, x => x
            .Workflow("ParFail", (ctx, _) => { ctx.ExecuteParallel(("ok", null, null), ("boom", null, O(("max_attempts", 1)))); return null; })
            .Activity("ok", (_, _) => 1)
            .Activity("boom", (_, _) => throw new InvalidOperationException("fail: boom")));
        var id = await StartAsync("ParFail", queue: queue);
        var wf = await WaitTerminalAsync(id);
        Assert.Equal("FAILED", wf["status"].Str());
        Assert.Contains("boom", wf["error"].Str());
        Assert.Equal("WorkflowFailed", (await EventTypesAsync(id))[^1]);
    }

    [SkippableFact]
    public async Task Child_workflow_result_reaches_the_parent()
    {
        var queue = Uid("q");
        var parentId = Uid("wf-parent");
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, x => x
            .Workflow("Parent", (ctx, _) =>
                O(("from_child", ctx.StartChildWorkflow("Multiply", ctx.WorkflowId + "-child-of-alpha", O(("x", 7), ("m", 6)), queue)!.DeepClone())))
            .Workflow("Multiply", (ctx, i) => O(("product", ctx.ExecuteActivity("mul", i)!.DeepClone())))
            .Activity("mul", (_, i) => i!["x"].Long() * i["m"].Long()));
        await StartAsync("Parent", id: parentId, queue: queue);
        var parent = await WaitTerminalAsync(parentId);
        Assert.Equal("COMPLETED", parent["status"].Str());
        Assert.Equal(42, parent["result"].Decode()!["from_child"]!["product"].Long());
        var child = await DescribeAsync(parentId + "-child-of-alpha");
        Assert.Equal("COMPLETED", child["status"].Str());
        Assert.Equal(parentId, child["parent_id"].Str());
        Assert.Single((await C.GetAsync($"/workflows/{parentId}/children")).Expect(200).Arr);
    }

    [SkippableTheory]
    [InlineData("cancel")]
    [InlineData("terminate")]
    [InlineData("fail")]
    public async Task Parent_is_woken_when_its_child_is_cancelled_terminated_or_fails(string how)
    {
        var queue = Uid("q");
        var parentId = Uid("p");
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, x => x
            .Workflow("P", (ctx, _) =>
            {
                try { ctx.StartChildWorkflow("Waits", ctx.WorkflowId + "-child", null, queue); }
                catch (InvalidOperationException e) { return O(("child_error", e.Message)); }
                return O(("child_error", null));
            })
            .Workflow("Waits", (ctx, _) =>
            {
                var s = ctx.WaitForSignal("never");
                if (s?["fail"] is not null) throw new InvalidOperationException("child gave up");
                return s;
            }));
        await StartAsync("P", id: parentId, queue: queue);
        var childId = parentId + "-child";
        await EventuallyAsync(async () => (await C.GetAsync($"/workflows/{childId}/events")).Code == 200
                                          && (await EventTypesAsync(childId)).Contains("WorkflowAwaitingSignal"), 10, "child waiting");
        if (how == "fail")
            (await C.PostAsync($"/workflows/{childId}/signal/never", O(("payload", O(("fail", true)))))).Expect(200);
        else
            (await C.PostAsync($"/workflows/{childId}/{how}", "{}")).Expect(200);
        var parent = await WaitTerminalAsync(parentId);
        Assert.Equal("COMPLETED", parent["status"].Str());
        var expected = how switch { "cancel" => "cancelled", "terminate" => "terminated", _ => "child gave up" };
        Assert.Contains(expected, parent["result"].Decode()!["child_error"].Str());
    }

    [SkippableFact]
    public async Task Cancel_a_sleeping_workflow()
    {
        var queue = Uid("q");
        await using var w = await WorkerAsync(queue, WorkerMode.Seed, x => x
            .Workflow("Sleepy", (ctx, _) => { ctx.Sleep(5); ctx.ExecuteActivity("never", null); return null; })
            .Activity("never", (_, _) => 1));
        var id = await StartAsync("Sleepy", queue: queue);
        await EventuallyAsync(async () => (await EventTypesAsync(id)).Contains("TimerScheduled"), 5, "timer scheduled");
        (await C.PostAsync($"/workflows/{id}/cancel")).Expect(200);
        var wf = await WaitTerminalAsync(id, 5);
        Assert.Equal("CANCELLED", wf["status"].Str());
        var types = await EventTypesAsync(id);
        Assert.DoesNotContain("ActivityScheduled", types);
        Assert.DoesNotContain("TimerFired", types);
        Assert.Contains("WorkflowCancelRequested", types);
        Assert.Equal("WorkflowCancelled", types[^1]);
    }

    [SkippableFact]
    public async Task Durable_timer_fires_on_time()
    {
        await using var clock = await UseFakeClockAsync();
        var queue = Uid("q");
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, x => x
            .Workflow("Timer", (ctx, i) => { ctx.Sleep(1); return O(("x", ctx.ExecuteActivity("triple", i!["x"]!.DeepClone())!.DeepClone()), ("slept", true)); })
            .Activity("triple", (_, i) => i.Long() * 3));
        var start = clock.Now;
        var id = await StartAsync("Timer", O(("x", 7)), queue);
        await EventuallyAsync(async () => (await EventTypesAsync(id)).Contains("TimerScheduled"), 5, "timer scheduled");
        var fireAt = (await EventsAsync(id)).Single(e => e["event_type"].Str() == "TimerScheduled")["payload"].Decode()!["fire_at"].Num();
        clock.Jump(Math.Max(0, fireAt - clock.Now - 0.05)); // up to just before the timer is due
        await clock.AdvanceUntilAsync(async () => IsTerminal(await DescribeAsync(id)), 5, "the workflow", stepSecs: 0.01);
        var wf = await WaitTerminalAsync(id, 5);
        Assert.InRange(clock.Now - start, 0.9, 5);
        Assert.Equal("{\"x\":21,\"slept\":true}", wf["result"].Str());
        var events = await EventsAsync(id);
        var scheduled = events.Single(e => e["event_type"].Str() == "TimerScheduled")["payload"].Decode()!;
        var fired = events.Single(e => e["event_type"].Str() == "TimerFired");
        // Fired within 100 ms of its due time.
        Assert.InRange(fired["timestamp"].Num() - scheduled["fire_at"].Num(), 0, 0.1);
    }

    [SkippableFact]
    public async Task Queries_expose_the_latest_snapshot()
    {
        var queue = Uid("q");
        await using var w = await WorkerAsync(queue, WorkerMode.Seed, x => x
            .Workflow("Q", (ctx, _) =>
            {
                var stage = "init";
                var progress = 0.0;
                ctx.RegisterQuery("stage", () => stage);
                ctx.RegisterQuery("progress", () => progress);
                ctx.ExecuteActivity("work", null);
                stage = "done";
                progress = 1.0;
                return null;
            })
            .Activity("work", (_, _) => null));
        var id = await StartAsync("Q", queue: queue);
        var wf = await WaitTerminalAsync(id);
        Assert.Equal("COMPLETED", wf["status"].Str());
        var state = (await C.GetAsync($"/workflows/{id}/state")).Expect(200).Obj["state"]!;
        Assert.Equal("done", state["stage"].Str());
        Assert.Equal(1.0, state["progress"].Num());
        Assert.Equal("done", (await C.GetAsync($"/workflows/{id}/state/stage")).Expect(200).Obj["value"].Str());
        (await C.GetAsync($"/workflows/{id}/state/nonexistent")).Expect(404);
    }

    [SkippableFact]
    public async Task Continue_as_new_from_the_workflow()
    {
        var queue = Uid("q");
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, x => x.Workflow("Counter", (ctx, i) =>
        {
            var n = i!["n"].Long();
            if (n < 1) ctx.ContinueAsNew(O(("n", n + 1)));
            return O(("final_n", n));
        }));
        var id = await StartAsync("Counter", O(("n", 0)), queue);
        var original = await WaitTerminalAsync(id);
        Assert.Equal("COMPLETED", original["status"].Str());
        var nextId = original["continued_to"].Str();
        var next = await WaitTerminalAsync(nextId);
        Assert.Equal("Counter", next["workflow_type"].Str());
        Assert.Equal(1, next["result"].Decode()!["final_n"].Long());
    }

    [SkippableFact]
    public async Task A_child_that_continues_as_new_reports_under_the_id_its_parent_knows()
    {
        var queue = Uid("q");
        var parentId = Uid("p");
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, x => x
            .Workflow("P", (ctx, _) => O(("child", ctx.StartChildWorkflow("Loop", ctx.WorkflowId + "-loop", O(("n", 0)), queue)!.DeepClone())))
            .Workflow("Loop", (ctx, i) =>
            {
                var n = i!["n"].Long();
                if (n < 2) ctx.ContinueAsNew(O(("n", n + 1)));
                return O(("final_n", n));
            }));
        await StartAsync("P", id: parentId, queue: queue);
        var parent = await WaitTerminalAsync(parentId);
        Assert.Equal("{\"child\":{\"final_n\":2}}", parent["result"].Str());
        Assert.Equal(3, (await C.GetAsync($"/workflows/{parentId}/children")).Expect(200).Arr.Count); // every run is linked
    }

    [SkippableFact]
    public async Task Upsert_search_attributes_mid_workflow_and_nil_values()
    {
        var queue = Uid("q");
        var ns = await NewNamespaceAsync();
        await using var w = await WorkerAsync(queue, WorkerMode.Modern, x => x
            .Workflow("Tag", (ctx, _) =>
            {
                ctx.UpsertSearchAttributes(O(("stage", "deploy"), ("progress", 0.5)));
                var none = ctx.ExecuteActivity("nil", null);   // activity returning nil
                var effect = ctx.SideEffect("nil", () => null); // side effect returning nil
                var signal = ctx.WaitForSignal("go");         // signal without payload
                return O(("all_nil", none is null && effect is null && signal is null));
            })
            .Activity("nil", (_, _) => null));
        var id = await StartAsync("Tag", queue: queue, ns: ns);
        await EventuallyAsync(async () => (await EventTypesAsync(id)).Contains("WorkflowAwaitingSignal"), 10, "waiting for signal");
        (await C.PostAsync($"/workflows/{id}/signal/go", "[]")).Expect(200);
        var wf = await WaitTerminalAsync(id);
        Assert.Equal("{\"all_nil\":true}", wf["result"].Str());
        var found = (await C.GetAsync($"/workflows?namespace={ns}&search_attrs=" + Uri.EscapeDataString("{\"stage\":\"deploy\"}"))).Expect(200).Arr;
        Assert.Single(found);
    }

    [SkippableFact]
    public async Task Seed_client_upsert_does_not_spin()
    {
        // The seed client yields the upsert on every replay. The first one applies and replays; the
        // identical second one changes nothing and is not re-dispatched, so the workflow waits
        // instead of looping (the reference stalls right after the first upsert).
        var queue = Uid("q");
        await using var w = await WorkerAsync(queue, WorkerMode.Seed, x => x.Workflow("SeedTag", (ctx, _) =>
        {
            ctx.UpsertSearchAttributes(O(("k", "v")));
            return null;
        }));
        var id = await StartAsync("SeedTag", queue: queue);
        await EventuallyAsync(async () => (await DescribeAsync(id))["search_attributes"] is not null, 5, "upsert applied");
        await Task.Delay(500);
        Assert.InRange(w.WorkflowTasks, 1, 3);
        Assert.Equal("RUNNING", (await DescribeAsync(id))["status"].Str());
    }
}

public sealed class SqliteEndToEndTests(SqliteEngineFixture fx) : EndToEndTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresEndToEndTests(PostgresEngineFixture fx) : EndToEndTests(fx), IClassFixture<PostgresEngineFixture>;
