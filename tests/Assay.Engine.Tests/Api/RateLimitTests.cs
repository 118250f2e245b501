namespace Assay.Engine.Tests.Api;

/// <summary>docs/engine.md "Priorities and rate limits": a queue's max_activities_per_second — set, read and cleared over
/// REST, enforced by a token bucket in the database for every claim (polls, concurrent polls, eager dispatch), on a
/// fake clock so the timing is exact.</summary>
public abstract class RateLimitTests(EngineFixture fx) : TestBase(fx)
{
    const string NoTask = "{\"task\":null}";

    Task<Reply> SetLimitAsync(string queue, JsonNode? rate) =>
        C.SendAsync(HttpMethod.Put, $"/queues/{queue}", O(("max_activities_per_second", rate)));

    /// <summary>A workflow with <paramref name="count"/> activities waiting on a queue of their own.</summary>
    async Task<string> ScheduleActivitiesAsync(int count, string? queue = null)
    {
        queue ??= Uid("rq");
        var wf = await StartAsync("Limited", queue: Uid("wq"));
        for (var i = 1; i <= count; i++)
            (await C.PostAsync($"/workflows/{wf}/activities", O(("name", "a"), ("seq", i), ("task_queue", queue)))).Expect(201);
        return queue;
    }

    /// <summary>Polls <paramref name="polls"/> times one after another (no waiting); answers how many got a task.</summary>
    async Task<int> ClaimAsync(string queue, int polls)
    {
        var n = 0;
        for (var i = 0; i < polls; i++)
            if ((await PollActivityAsync(queue, $"w{i % 3}")).Expect(200).Body != NoTask) n++;
        return n;
    }

    [SkippableFact]
    public async Task The_limit_is_set_read_listed_and_cleared()
    {
        var queue = await ScheduleActivitiesAsync(1);
        Assert.Null((await C.GetAsync($"/queues/{queue}")).Expect(200).Obj["max_activities_per_second"]);
        var set = (await SetLimitAsync(queue, 2.5)).Expect(200).Obj;
        Assert.Equal(queue, set["queue"].Str());
        Assert.Equal(2.5, set["max_activities_per_second"].Num());
        Assert.Equal(2.5, (await C.GetAsync($"/queues/{queue}")).Expect(200).Obj["max_activities_per_second"].Num());
        var stats = (await C.GetAsync("/queues")).Expect(200).Arr.Single(q => q!["queue"].Str() == queue)!;
        Assert.Equal(2.5, stats["max_activities_per_second"].Num());
        Assert.Equal(1, stats["pending_activities"].Long());

        // PUT replaces the settings: a null or absent limit clears it.
        Assert.Null((await SetLimitAsync(queue, null)).Expect(200).Obj["max_activities_per_second"]);
        Assert.Null((await C.GetAsync($"/queues/{queue}")).Obj["max_activities_per_second"]);
        (await SetLimitAsync(queue, 7)).Expect(200);
        (await C.SendAsync(HttpMethod.Put, $"/queues/{queue}", "{}")).Expect(200);
        Assert.Null((await C.GetAsync($"/queues/{queue}")).Obj["max_activities_per_second"]);
        Assert.Null((await C.GetAsync("/queues")).Arr.Single(q => q!["queue"].Str() == queue)!["max_activities_per_second"]);

        // The API description has the routes and says what they take.
        var doc = (await C.GetAsync("/openapi.json")).Expect(200).Obj;
        var route = doc["paths"]!["/api/v1/queues/{name}"]!;
        Assert.Contains("max_activities_per_second", route["put"]!["summary"].Str());
        Assert.NotNull(route["put"]!["requestBody"]);
        Assert.NotNull(route["get"]);
        Assert.Contains("priority", doc["paths"]!["/api/v1/workflows"]!["post"]!["summary"].Str());
    }

    [SkippableTheory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1000001")]
    [InlineData("\"fast\"")]
    [InlineData("true")]
    public async Task Invalid_limits_are_refused_naming_the_field(string rate)
    {
        var queue = Uid("rq");
        var reply = await C.SendAsync(HttpMethod.Put, $"/queues/{queue}", $"{{\"max_activities_per_second\":{rate}}}");
        Assert.Contains("'max_activities_per_second'", reply.Expect(400).Error);
        Assert.Equal("application/json", reply.ContentType);
        Assert.Null((await C.GetAsync($"/queues/{queue}")).Expect(200).Obj["max_activities_per_second"]);
    }

    [SkippableFact]
    public async Task Claims_take_tokens_from_a_bucket_that_refills_at_the_rate()
    {
        await using var clock = await UseFakeClockAsync();
        var queue = await ScheduleActivitiesAsync(9);
        var free = await ScheduleActivitiesAsync(3);
        (await SetLimitAsync(queue, 2)).Expect(200);
        Assert.Equal(2, await ClaimAsync(queue, 6)); // a full bucket: one second's worth at once
        Assert.Equal(3, await ClaimAsync(free, 3));  // other queues are not affected
        clock.Jump(0.5);
        Assert.Equal(1, await ClaimAsync(queue, 4)); // then one every 1/rate seconds
        clock.Jump(0.4);
        Assert.Equal(0, await ClaimAsync(queue, 4));
        clock.Jump(60);
        Assert.Equal(2, await ClaimAsync(queue, 6)); // an idle queue saves up at most a bucketful
        (await SetLimitAsync(queue, 0.5)).Expect(200);
        clock.Jump(1.9);
        Assert.Equal(0, await ClaimAsync(queue, 3));
        clock.Jump(0.2);
        Assert.Equal(1, await ClaimAsync(queue, 3));
        (await SetLimitAsync(queue, null)).Expect(200);
        Assert.Equal(3, await ClaimAsync(queue, 6)); // cleared: the rest at once
    }

    [SkippableFact]
    public async Task Concurrent_pollers_get_no_more_than_the_bucket_holds()
    {
        await using var clock = await UseFakeClockAsync();
        var queue = await ScheduleActivitiesAsync(20);
        (await SetLimitAsync(queue, 3)).Expect(200);
        var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => PollActivityAsync(queue, $"w{i}")));
        Assert.Equal(3, claims.Count(r => r.Expect(200).Body != NoTask));
        clock.Jump(1);
        claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => PollActivityAsync(queue, $"w{i}")));
        var ids = claims.Where(r => r.Body != NoTask).Select(r => r.Obj["id"].Long()).ToList();
        Assert.Equal(3, ids.Distinct().Count());
    }

    [SkippableFact]
    public async Task A_waiting_poll_is_answered_when_the_next_token_is_there()
    {
        await using var clock = await UseFakeClockAsync();
        var queue = await ScheduleActivitiesAsync(6);
        (await SetLimitAsync(queue, 4)).Expect(200);
        Assert.Equal(4, await ClaimAsync(queue, 4));
        var poll = PollActivityAsync(queue, "waiter", wait: 10);
        var waited = await clock.AdvanceUntilAsync(poll, 5, "the next token");
        Assert.NotEqual(NoTask, (await poll).Expect(200).Body);
        Assert.InRange(waited, 0.2, 0.6); // the next token comes after 1/4 s: woken then, not by the 1 s re-check
    }

    [SkippableFact]
    public async Task Eager_dispatch_takes_tokens_too()
    {
        await using var clock = await UseFakeClockAsync();
        var (id, queue, _) = await StartAndClaimAsync();
        (await SetLimitAsync(queue, 1)).Expect(200);
        var answer = (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "w-test"), ("eager_activities", 4),
            ("commands", A(ScheduleActivity(1, "a", queue), ScheduleActivity(2, "b", queue), ScheduleActivity(3, "c", queue)))))).Expect(200).Obj;
        Assert.Equal("a", Assert.Single(answer["activity_tasks"]!.AsArray())!["name"].Str());
        Assert.Equal(0, await ClaimAsync(queue, 3));
        clock.Jump(1);
        Assert.Equal("b", (await PollActivityAsync(queue, "w")).Expect(200).Obj["name"].Str());
        Assert.Equal(NoTask, (await PollActivityAsync(queue, "w")).Body);
    }
}

public sealed class SqliteRateLimitTests(SqliteEngineFixture fx) : RateLimitTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresRateLimitTests(PostgresEngineFixture fx) : RateLimitTests(fx), IClassFixture<PostgresEngineFixture>;

/// <summary>Two engines on one PostgreSQL database share one bucket per queue: the limit holds across both.</summary>
public sealed class TwoEngineRateLimitTests
{
    [SkippableFact]
    public async Task The_rate_limit_holds_across_two_engines_on_one_database()
    {
        var db = await TestDatabases.NewPostgresDatabaseAsync();
        await using var clock = await TestClock.StartAsync(db);
        await using var second = await clock.StartEngineAsync(db);
        using var a = new EngineClient(clock.Engine.BaseUrl);
        using var b = new EngineClient(second.BaseUrl);
        const string queue = "shared-limited";

        (await a.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", "limited"), ("task_queue", "wq")))).Expect(201);
        for (var i = 1; i <= 12; i++)
            (await a.PostAsync("/workflows/limited/activities", O(("name", "x"), ("seq", i), ("task_queue", queue)))).Expect(201);
        (await b.SendAsync(HttpMethod.Put, $"/queues/{queue}", O(("max_activities_per_second", 2)))).Expect(200); // set on one,
        Assert.Equal(2, (await a.GetAsync($"/queues/{queue}")).Expect(200).Obj["max_activities_per_second"].Num()); // seen on both

        async Task<List<long>> PollBothAsync() =>
            (await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
                (i % 2 == 0 ? a : b).PostAsync("/tasks/poll", O(("queue", queue), ("worker_id", $"w{i}"))))))
            .Where(r => r.Expect(200).Body != "{\"task\":null}").Select(r => r.Obj["id"].Long()).ToList();

        var claimed = await PollBothAsync();
        Assert.Equal(2, claimed.Count);
        clock.Jump(0.5);
        var next = await PollBothAsync();
        Assert.Single(next);
        clock.Jump(1);
        var more = await PollBothAsync();
        Assert.Equal(2, more.Count);
        Assert.Equal(5, claimed.Concat(next).Concat(more).Distinct().Count());
    }
}
