namespace Assay.Engine.Tests.Durability;

/// <summary>Two engines share one PostgreSQL database: every activity runs exactly once, every workflow completes.</summary>
public sealed class TwoEngineTests
{
    [SkippableFact]
    public async Task Two_engines_on_one_postgres_database_run_every_activity_exactly_once()
    {
        var db = await TestDatabases.NewPostgresDatabaseAsync();
        await using var a = await Assay.Engine.Hosting.EngineHost.StartAsync(EngineFixture.Options(db));
        await using var b = await Assay.Engine.Hosting.EngineHost.StartAsync(EngineFixture.Options(db));
        var workers = new List<HarnessWorker>();
        foreach (var url in new[] { a.BaseUrl, b.BaseUrl })
            for (var i = 0; i < 2; i++)
            {
                var w = new HarnessWorker(url, "shared");
                w.Workflow("TwoSteps", (ctx, input) =>
                    {
                        var x = ctx.ExecuteActivity("step1", input!.DeepClone());
                        return O(("sum", ctx.ExecuteActivity("step2", x!.DeepClone()).Long()));
                    })
                    .Activity("step1", (_, i) => i!["n"].Long() * 2)
                    .Activity("step2", (_, i) => i.Long() + 10);
                workers.Add(await w.StartAsync(concurrency: 2));
            }

        const int count = 100;
        var clients = new[] { new EngineClient(a.BaseUrl), new EngineClient(b.BaseUrl) };
        await Task.WhenAll(Enumerable.Range(0, count).Select(n =>
            clients[n % 2].PostAsync("/workflows", O(("workflow_type", "TwoSteps"), ("workflow_id", $"two-{n}"), ("task_queue", "shared"), ("input", O(("n", n)))))));

        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (var n = 0; n < count; n++)
        {
            while (true)
            {
                var wf = (await clients[(n + 1) % 2].GetAsync($"/workflows/two-{n}")).Expect(200).Obj;
                if (wf["status"].Str() == "COMPLETED")
                {
                    Assert.Equal(n * 2 + 10, wf["result"].Decode()!["sum"].Long());
                    break;
                }
                Assert.True(sw.Elapsed.TotalSeconds < 60, $"two-{n} is {wf["status"]}");
                await Task.Delay(20);
            }
        }

        var runs = new Dictionary<long, int>();
        foreach (var w in workers)
            foreach (var (id, n) in w.ExecutionsById)
                runs[id] = runs.GetValueOrDefault(id) + n;
        Assert.Equal(2 * count, runs.Count);
        Assert.All(runs, kv => Assert.Equal(1, kv.Value));
        Assert.All(workers, w => Assert.True(w.ExecutionsById.Count > 0, "both engines' workers took part"));
        foreach (var w in workers) await w.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_long_poll_on_one_engine_is_woken_by_work_started_on_the_other()
    {
        var db = await TestDatabases.NewPostgresDatabaseAsync();
        await using var a = await Assay.Engine.Hosting.EngineHost.StartAsync(EngineFixture.Options(db));
        await using var b = await Assay.Engine.Hosting.EngineHost.StartAsync(EngineFixture.Options(db));
        var ca = new EngineClient(a.BaseUrl);
        var cb = new EngineClient(b.BaseUrl);
        for (var i = 0; i < 3; i++)
        {
            var poll = cb.PostAsync("/workflow-tasks/poll", O(("queue", "cross"), ("worker_id", "wb"), ("wait_secs", 10)));
            await Task.Delay(200);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            (await ca.PostAsync("/workflows", O(("workflow_type", "X"), ("workflow_id", $"cross-{i}"), ("task_queue", "cross")))).Expect(201);
            var task = (await poll).Expect(200).Obj;
            Assert.Equal($"cross-{i}", task["workflow_id"].Str());
            // LISTEN/NOTIFY, not the one-second safety re-check.
            Assert.True(sw.ElapsedMilliseconds < 700, $"woken after {sw.ElapsedMilliseconds} ms");
        }
    }
}
