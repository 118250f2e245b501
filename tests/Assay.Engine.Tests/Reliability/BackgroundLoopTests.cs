using Assay.Engine.Hosting;
using Microsoft.Extensions.Logging;

namespace Assay.Engine.Tests.Reliability;

/// <summary>Issue 12 items 12, 13, 15: background loops and the store going away, each on its own engine.</summary>
public abstract class BackgroundLoopTests
{
    protected abstract Backend Backend { get; }

    [SkippableFact]
    public async Task Timer_and_timeout_loops_survive_rows_due_in_the_far_future()
    {
        var db = await TestDatabases.NewBackendAsync(Backend);
        var logs = new LogCapture();
        await using var clock = await TestClock.StartAsync(db, o => o.ConfigureLogging = logs.Attach);
        var c = clock.Client;

        // Rows written before durations were bounded: a timer and an activity deadline at 1e308.
        (await c.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", "old"), ("task_queue", "q0")))).Expect(201);
        (await c.PostAsync("/workflow-tasks/poll", O(("queue", "q0"), ("worker_id", "w")))).Expect(200);
        (await c.PostAsync("/workflow-tasks/old/commands", O(("worker_id", "w"), ("commands", A(
            O(("type", "ScheduleTimer"), ("seq", 1), ("duration_secs", 1000)),
            O(("type", "ScheduleActivity"), ("seq", 2), ("name", "a"), ("task_queue", "aq"))))))).Expect(200);
        (await c.PostAsync("/tasks/poll", O(("queue", "aq"), ("worker_id", "w")))).Expect(200);
        await TestDatabases.ExecAsync(db, "UPDATE workflow_timers SET fire_at = 1e308");
        await TestDatabases.ExecAsync(db, "UPDATE workflow_activities SET timeout_at = 1e308, start_to_close_secs = 1e308");

        // Another workflow's short timer still fires on time, and the loops stay quiet.
        (await c.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", "new"), ("task_queue", "q1")))).Expect(201);
        (await c.PostAsync("/workflow-tasks/poll", O(("queue", "q1"), ("worker_id", "w")))).Expect(200);
        (await c.PostAsync("/workflow-tasks/new/commands", O(("worker_id", "w"), ("commands", A(
            O(("type", "ScheduleTimer"), ("seq", 1), ("duration_secs", 0.2))))))).Expect(200);
        await clock.AdvanceUntilAsync(async () => (await c.GetAsync("/workflows/new/events")).Body.Contains("TimerFired"), 5,
            "the short timer did not fire");
        await clock.RunAsync(2.5); // a few loop rounds
        Assert.Empty(logs.AtLeast(LogLevel.Error));
    }

    [SkippableFact]
    public async Task The_store_going_away_answers_503_with_Retry_After()
    {
        Skip.If(Backend != Backend.Postgres, "needs a database reached over the network");
        var db = new Uri(await TestDatabases.NewBackendAsync(Backend));
        using var relay = new TcpRelay(db.Host, db.Port);
        var o = EngineFixture.Options(new UriBuilder(db) { Host = "127.0.0.1", Port = relay.Port }.Uri.ToString());
        o.ConfigureLogging = new LogCapture().Attach; // keep the expected connection errors out of the test output
        o.LogLevel = LogLevel.Critical;
        await using var engine = await EngineHost.StartAsync(o);
        var c = new EngineClient(engine.BaseUrl);
        (await c.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", "before")))).Expect(201);

        relay.Cut();
        foreach (var (method, path, body) in new[]
                 {
                     (HttpMethod.Post, "/workflows", (object?)O(("workflow_type", "T"), ("workflow_id", "after"))),
                     (HttpMethod.Get, "/workflows/before", null),
                     (HttpMethod.Get, "/workflows", null),
                 })
        {
            using var http = new HttpClient();
            using var req = new HttpRequestMessage(method, engine.BaseUrl + "/api/v1" + path);
            if (body is JsonNode n) req.Content = new StringContent(n.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            using var res = await http.SendAsync(req);
            Assert.Equal(503, (int)res.StatusCode);
            Assert.Equal("application/json", res.Content.Headers.ContentType?.MediaType);
            Assert.Contains("database unavailable", JsonNode.Parse(await res.Content.ReadAsStringAsync())!["error"].Str());
            Assert.True(res.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After missing");
        }
    }
}

public sealed class SqliteBackgroundLoopTests : BackgroundLoopTests
{
    protected override Backend Backend => Backend.Sqlite;
}

public sealed class PostgresBackgroundLoopTests : BackgroundLoopTests
{
    protected override Backend Backend => Backend.Postgres;
}
