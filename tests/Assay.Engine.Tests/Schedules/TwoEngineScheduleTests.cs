namespace Assay.Engine.Tests.Schedules;

/// <summary>Two engines on one PostgreSQL database: one scheduler (the lease holder) fires; nothing fires twice;
/// when the leader stops, the other takes over without a gap.</summary>
public sealed class TwoEngineScheduleTests
{
    [SkippableFact]
    public async Task Two_engines_fire_a_per_second_schedule_once_per_second_in_total()
    {
        var db = await TestDatabases.NewPostgresDatabaseAsync();
        // Both engines on one clock that moves only when the test moves it.
        await using var clock = await TestClock.StartAsync(db);
        var a = clock.Engine;
        await using var b = await clock.StartEngineAsync(db);
        try
        {
            var ca = new EngineClient(a.BaseUrl);
            var cb = new EngineClient(b.BaseUrl);
            (await cb.PostAsync("/schedules", O(("name", "sec"), ("workflow_type", "T"), ("cron_expr", "* * * * * *"), ("overlap_policy", "allow_all")))).Expect(201);
            await clock.RunAsync(3);
            Assert.True(a.Engine.IsLeader ^ b.Engine.IsLeader, "exactly one leader");
            var leader = a.Engine.IsLeader ? a : b;
            var follower = leader == a ? b : a;
            await leader.StopAsync(); // releases the lease: the other takes over at once
            await clock.RunAsync(3);
            Assert.True(follower.Engine.IsLeader);
            var cf = new EngineClient(follower.BaseUrl);
            (await cf.PostAsync("/schedules/sec/pause")).Expect(200);

            var ids = (await cf.GetAsync("/workflows?limit=1000")).Expect(200).Arr.Select(w => w!["id"].Str()).ToList();
            var secs = ids.Select(id => long.Parse(id["sec-".Length..])).OrderBy(x => x).ToList();
            Assert.InRange(secs.Count, 5, 8);
            for (var i = 1; i < secs.Count; i++) Assert.Equal(secs[i - 1] + 1, secs[i]); // once per second, no gap at the hand-over
            foreach (var id in ids)
            {
                var events = (await cf.GetAsync($"/workflows/{id}/events")).Expect(200).Arr;
                Assert.Single(events);
            }
        }
        finally
        {
            await a.DisposeAsync();
        }
    }
}
