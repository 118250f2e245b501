using System.Collections.Concurrent;
using Assay.Engine.Hosting;

namespace Assay.Engine.Tests.Durability;

/// <summary>
/// The engine process is SIGKILLed under load and restarted on the same SQLite file: no
/// acknowledged workflow and no acknowledged activity completion may be lost, and every workflow
/// still finishes. Also: graceful shutdown releases the single-instance lock.
/// </summary>
public sealed class CrashSafetyTests
{
    static void Define(HarnessWorker w) => w
        .Workflow("TwoSteps", (ctx, input) =>
        {
            // Short start-to-close: an activity whose worker lost its engine mid-flight is retried quickly.
            var opts = O(("start_to_close_secs", 3), ("initial_interval_secs", 0.1));
            var a = ctx.ExecuteActivity("step1", input!.DeepClone(), opts);
            var b = ctx.ExecuteActivity("step2", a!.DeepClone(), (JsonObject)opts.DeepClone());
            return O(("sum", b.Long()));
        })
        .Activity("step1", (_, i) => i!["n"].Long() * 2)
        .Activity("step2", (_, i) => i.Long() + 10);

    [Fact]
    public async Task Sigkill_under_load_loses_no_workflow_and_no_completed_activity()
    {
        var db = TestDatabases.NewSqliteFile();
        var port = EngineProcess.FreePort();
        var engine = await EngineProcess.StartAsync(db, port);
        var client = new EngineClient(engine.BaseUrl);
        await using var w1 = await new HarnessWorker(engine.BaseUrl, "crash").Also(Define).StartAsync(concurrency: 2);
        await using var w2 = await new HarnessWorker(engine.BaseUrl, "crash").Also(Define).StartAsync(concurrency: 2);

        // Load: start workflows continuously; remember the ones the engine acknowledged.
        var acked = new ConcurrentDictionary<string, long>();
        using var stopStarting = new CancellationTokenSource();
        var starter = Task.Run(async () =>
        {
            for (var n = 0; !stopStarting.IsCancellationRequested; n++)
            {
                var id = $"crash-{n}";
                try
                {
                    var r = await client.PostAsync("/workflows", O(("workflow_type", "TwoSteps"), ("workflow_id", id), ("task_queue", "crash"), ("input", O(("n", n)))));
                    if (r.Code == 201) acked[id] = n;
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(20);
                }
            }
        });

        await EventuallyAsync(() => w1.AcknowledgedCompletions.Count + w2.AcknowledgedCompletions.Count >= 150, 60, "load to build up");
        await engine.KillAsync();
        await stopStarting.CancelAsync();
        await starter;
        var completedBeforeCrash = w1.AcknowledgedCompletions.Concat(w2.AcknowledgedCompletions).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.True(acked.Count > 50);

        // Restart on the same file and port: the kernel dropped the dead process's lock.
        await using var restarted = await EngineProcess.StartAsync(db, port);
        foreach (var (id, n) in acked)
        {
            await EventuallyAsync(async () => (await client.GetAsync($"/workflows/{id}")).Json?["status"]?.ToString() == "COMPLETED", 60, $"{id} to complete");
            var wf = (await client.GetAsync($"/workflows/{id}")).Obj;
            Assert.Equal(n * 2 + 10, wf["result"].Decode()!["sum"].Long());
        }
        foreach (var (activityId, result) in completedBeforeCrash)
        {
            var act = (await client.GetAsync($"/activities/{activityId}")).Expect(200).Obj;
            Assert.Equal("COMPLETED", act["status"].Str());
            Assert.Equal(result, act["result"].Str());
        }
        // Every workflow has exactly one completion event per activity and a clean seq order.
        foreach (var id in acked.Keys.Take(50))
        {
            var events = (await client.GetAsync($"/workflows/{id}/events")).Arr;
            Assert.Equal(2, events.Count(e => e!["event_type"].Str() == "ActivityCompleted"));
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e!["seq"].Long()));
        }
    }

    [Fact]
    public async Task Graceful_shutdown_releases_the_lock_and_a_second_engine_is_refused()
    {
        var db = TestDatabases.NewSqliteFile();
        var engine = await EngineProcess.StartAsync(db, 0);
        var client = new EngineClient(engine.BaseUrl);
        (await client.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", "kept")))).Expect(201);

        // A second engine on the same file is refused with a clear message and exit code 1.
        var errors = new StringWriter();
        var code = await EngineHost.RunAsync(new EngineOptions { Port = 0, Backend = db, ErrorOutput = errors, LogLevel = Microsoft.Extensions.Logging.LogLevel.None },
            CancellationToken.None);
        Assert.Equal(1, code);
        Assert.Contains("another assay engine", errors.ToString());

        Assert.Equal(0, await engine.TerminateAsync());
        // Immediately restartable (the reference refused restarts for 60 s).
        await using var again = await EngineProcess.StartAsync(db, 0);
        var kept = (await new EngineClient(again.BaseUrl).GetAsync("/workflows/kept")).Expect(200).Obj;
        Assert.Equal("PENDING", kept["status"].Str());
    }

    static async Task EventuallyAsync(Func<Task<bool>> condition, double secs, string what)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (sw.Elapsed.TotalSeconds > secs) throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    static Task EventuallyAsync(Func<bool> condition, double secs, string what) => EventuallyAsync(() => Task.FromResult(condition()), secs, what);
}

static class HarnessExt
{
    public static HarnessWorker Also(this HarnessWorker w, Action<HarnessWorker> setup)
    {
        setup(w);
        return w;
    }
}
