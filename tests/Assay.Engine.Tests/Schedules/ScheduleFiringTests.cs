using System.Globalization;

namespace Assay.Engine.Tests.Schedules;

/// <summary>Schedules that fire: timing, overlap policies, trigger, backfill, catch-up. Both backends.</summary>
public abstract class ScheduleFiringTests(EngineFixture fx) : TestBase(fx)
{
    protected async Task<List<JsonObject>> WorkflowsAsync(string ns) =>
        (await C.GetAsync($"/workflows?namespace={ns}&limit=1000")).Expect(200).Arr.Select(w => w!.AsObject())
        .OrderBy(w => w["created_at"].Num()).ThenBy(w => w["id"].Str()).ToList();

    protected static long SecsOf(string id) => long.Parse(id[(id.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);

    protected Task<Reply> CreateScheduleAsync(string ns, string name, string cron, string policy = "skip", double? catchup = null)
    {
        var body = O(("name", name), ("namespace", ns), ("workflow_type", "Tick"), ("cron_expr", cron), ("overlap_policy", policy),
            ("task_queue", Uid("q")), ("input", O(("k", 1))));
        if (catchup is { } c) body["catchup_window_secs"] = c;
        return C.PostAsync("/schedules", body);
    }

    [SkippableFact]
    public async Task A_per_second_schedule_fires_every_second_within_a_second_of_due()
    {
        await using var clock = await UseFakeClockAsync();
        var ns = await NewNamespaceAsync();
        (await CreateScheduleAsync(ns, "tick", "* * * * * *", "allow_all")).Expect(201);
        for (var k = 1; k <= 3; k++) // three seconds: up to just before each, then step across it until it fires
        {
            clock.Jump(Math.Max(0, Math.Floor(clock.Now) + 1 - clock.Now - 0.05));
            await clock.AdvanceUntilAsync(async () => (await WorkflowsAsync(ns)).Count >= k, 1.5, $"run {k}", stepSecs: 0.01);
        }
        (await C.PostAsync($"/schedules/tick/pause?namespace={ns}")).Expect(200);
        var wfs = await WorkflowsAsync(ns);
        Assert.InRange(wfs.Count, 3, 5);
        var secs = wfs.Select(w => SecsOf(w["id"].Str())).ToList();
        for (var i = 1; i < secs.Count; i++) Assert.Equal(secs[i - 1] + 1, secs[i]); // every second, no gaps, no repeats
        foreach (var w in wfs)
        {
            Assert.StartsWith($"{ns}-tick-", w["id"].Str()); // namespace, name, scheduled time
            Assert.Equal("Tick", w["workflow_type"].Str());
            Assert.Equal(1, w["input"].Decode()!["k"].Long());
            var late = w["created_at"].Num() - SecsOf(w["id"].Str());
            Assert.InRange(late, 0, 1.0);
        }
        var s = (await C.GetAsync($"/schedules/tick?namespace={ns}")).Expect(200).Obj;
        Assert.Equal(wfs[^1]["id"].Str(), s["last_workflow_id"].Str());
        Assert.True(s["last_run_at"].Num() > 0);
    }

    [SkippableFact]
    public async Task Every_overlap_policy()
    {
        await using var clock = await UseFakeClockAsync();
        var policies = new[] { "skip", "allow_all", "buffer_one", "queue", "buffer_all", "cancel_other", "cancel_old", "terminate_other" };
        var nss = new Dictionary<string, string>();
        foreach (var p in policies)
        {
            nss[p] = await NewNamespaceAsync();
            (await CreateScheduleAsync(nss[p], "ov", "* * * * * *", p)).Expect(201);
        }
        await clock.RunAsync(3.3);
        // Nothing works the workflows: each run stays PENDING (not finished) unless the policy stops it.
        foreach (var p in new[] { "skip", "allow_all", "cancel_other", "cancel_old", "terminate_other" })
            (await C.PostAsync($"/schedules/ov/pause?namespace={nss[p]}")).Expect(200);

        Assert.Single(await WorkflowsAsync(nss["skip"]));

        var all = await WorkflowsAsync(nss["allow_all"]);
        Assert.True(all.Count >= 3, $"allow_all started {all.Count}");
        Assert.All(all, w => Assert.Equal("PENDING", w["status"].Str()));

        foreach (var p in new[] { "buffer_one", "queue", "buffer_all" })
        {
            var wfs = await WorkflowsAsync(nss[p]);
            Assert.Single(wfs);
            var s = (await C.GetAsync($"/schedules/ov?namespace={nss[p]}")).Expect(200).Obj;
            if (p == "buffer_all") Assert.True(s["buffered_runs"].Long() >= 2, $"buffer_all holds {s["buffered_runs"]}");
            else Assert.Equal(1, s["buffered_runs"].Long());
        }

        foreach (var p in new[] { "cancel_other", "cancel_old", "terminate_other" })
        {
            var wfs = await WorkflowsAsync(nss[p]);
            Assert.True(wfs.Count >= 3, $"{p} started {wfs.Count}");
            Assert.Equal("PENDING", wfs[^1]["status"].Str());
            foreach (var old in wfs.SkipLast(1))
            {
                Assert.Equal(p == "terminate_other" ? "FAILED" : "CANCELLED", old["status"].Str());
                if (p == "terminate_other") Assert.Contains("terminated by schedule ov", old["error"].Str());
            }
        }

        // A buffered occurrence starts once the running one finishes, under its own (earlier) scheduled time.
        var ns1 = nss["buffer_one"];
        var first = (await WorkflowsAsync(ns1))[0]["id"].Str();
        (await C.PostAsync($"/schedules/ov/pause?namespace={ns1}")).Expect(200);
        var buffered = (await C.GetAsync($"/schedules/ov?namespace={ns1}")).Expect(200).Obj;
        Assert.Equal(1, buffered["buffered_runs"].Long());
        (await C.PostAsync($"/schedules/ov/resume?namespace={ns1}")).Expect(200);
        var resumedAt = (long)clock.Now;
        (await C.PostAsync($"/workflows/{first}/terminate", O(("reason", "done")))).Expect(200);
        await clock.AdvanceUntilAsync(async () => (await WorkflowsAsync(ns1)).Count >= 2, 3, "the buffered run");
        (await C.PostAsync($"/schedules/ov/pause?namespace={ns1}")).Expect(200);
        var second = (await WorkflowsAsync(ns1))[1]["id"].Str();
        Assert.True(SecsOf(second) < resumedAt, $"{second} is the buffered occurrence, scheduled before the resume");
        foreach (var p in new[] { "queue", "buffer_all" })
            (await C.PostAsync($"/schedules/ov/pause?namespace={nss[p]}")).Expect(200);
    }

    [SkippableFact]
    public async Task Trigger_and_backfill()
    {
        var ns = await NewNamespaceAsync();
        (await CreateScheduleAsync(ns, "yearly", "0 0 0 1 1 *")).Expect(201);
        var t = (await C.PostAsync($"/schedules/yearly/trigger?namespace={ns}")).Expect(201).Obj;
        Assert.Equal("started", t["outcome"].Str());
        Assert.StartsWith($"{ns}-yearly-manual-", t["workflow_id"].Str());
        Assert.Equal("PENDING", (await DescribeAsync(t["workflow_id"].Str()))["status"].Str());
        // skip: the first run is still going.
        var again = (await C.PostAsync($"/schedules/yearly/trigger?namespace={ns}")).Expect(200).Obj;
        Assert.Equal("skipped", again["outcome"].Str());
        (await C.PostAsync($"/schedules/nope/trigger?namespace={ns}")).Expect(404);

        (await CreateScheduleAsync(ns, "minutely", "0 * * * * *")).Expect(201);
        (await C.PostAsync($"/schedules/minutely/pause?namespace={ns}")).Expect(200);
        var now = Math.Floor(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        var from = now - 299.5;
        var runs = (await C.PostAsync($"/schedules/minutely/backfill?namespace={ns}", O(("from", from), ("to", now)))).Expect(200).Arr;
        Assert.Equal(5, runs.Count);
        foreach (var r in runs)
        {
            Assert.Equal("started", r!["outcome"].Str());
            var secs = (long)r["scheduled_at"].Num();
            Assert.Equal(0, secs % 60);
            Assert.Equal($"{ns}-minutely-{secs}", r["workflow_id"].Str());
            Assert.Equal("Tick", (await DescribeAsync(r["workflow_id"].Str()))["workflow_type"].Str());
        }
        // Repeating a backfill starts nothing twice; ISO times work too.
        var isoFrom = DateTimeOffset.FromUnixTimeMilliseconds((long)(from * 1000)).ToString("O");
        var repeat = (await C.PostAsync($"/schedules/minutely/backfill?namespace={ns}", O(("from", isoFrom), ("to", now)))).Expect(200).Arr;
        Assert.All(repeat, r => Assert.Equal("exists", r!["outcome"].Str()));
        (await C.PostAsync($"/schedules/minutely/backfill?namespace={ns}", O(("from", now), ("to", now + 3600)))).Expect(400);
        (await C.PostAsync($"/schedules/minutely/backfill?namespace={ns}", O(("from", "yesterday"), ("to", now)))).Expect(400);
        (await C.PostAsync($"/schedules/minutely/backfill?namespace={ns}", O(("to", now)))).Expect(400);
        (await C.PostAsync($"/schedules/minutely/backfill?namespace={ns}", O(("from", now - 86400 * 2), ("to", now)))).Expect(400); // > 1000 runs
    }

    [SkippableFact]
    public async Task Validation_and_next_run_at_at_create_patch_and_resume()
    {
        await using var clock = await UseFakeClockAsync();
        var ns = await NewNamespaceAsync();
        var s = (await CreateScheduleAsync(ns, "h", "@hourly")).Expect(201).Obj;
        var now = (long)clock.Now;
        Assert.Equal(0, (long)s["next_run_at"].Num() % 3600);
        Assert.InRange(s["next_run_at"].Num(), now, now + 3600);
        Assert.Equal(60, s["catchup_window_secs"].Num());
        Assert.Equal(0, s["buffered_runs"].Long());

        (await CreateScheduleAsync(ns, "b1", "@fortnightly")).Expect(400);
        (await CreateScheduleAsync(ns, "b2", "* * * * *", "sometimes")).Expect(400);
        (await CreateScheduleAsync(ns, "b3", "* * * * *", "skip", -1)).Expect(400);
        (await C.PostAsync("/schedules", O(("name", "b4"), ("namespace", ns), ("workflow_type", "T"), ("cron_expr", "* * * * *"), ("timezone", "Not/AZone")))).Expect(400);
        (await C.PatchAsync($"/schedules/h?namespace={ns}", O(("timezone", "Not/AZone")))).Expect(400);
        (await C.PatchAsync($"/schedules/h?namespace={ns}", O(("overlap_policy", "cancel_everything")))).Expect(400);
        (await C.PatchAsync($"/schedules/h?namespace={ns}", O(("cron_expr", "*/70 * * * *")))).Expect(400);

        var p = (await C.PatchAsync($"/schedules/h?namespace={ns}", O(("cron_expr", "0 0 12 * * *"), ("timezone", "Asia/Tokyo"),
            ("overlap_policy", "buffer_all"), ("catchup_window_secs", 0)))).Expect(200).Obj;
        var tokyoNoon = DateTimeOffset.FromUnixTimeSeconds((long)p["next_run_at"].Num());
        Assert.Equal(3, tokyoNoon.UtcDateTime.Hour); // 12:00 JST = 03:00Z
        Assert.Equal("buffer_all", p["overlap_policy"].Str());
        Assert.Equal(0, p["catchup_window_secs"].Num());

        (await C.PatchAsync($"/schedules/h?namespace={ns}", O(("cron_expr", "* * * * * *")))).Expect(200);
        (await C.PostAsync($"/schedules/h/pause?namespace={ns}")).Expect(200);
        await clock.RunAsync(1.5);
        var paused = (await C.GetAsync($"/schedules/h?namespace={ns}")).Expect(200).Obj;
        var count = (await WorkflowsAsync(ns)).Count;
        var resumed = (await C.PostAsync($"/schedules/h/resume?namespace={ns}")).Expect(200).Obj;
        Assert.True(resumed["next_run_at"].Num() > paused["next_run_at"].Num(), "resume recomputes next_run_at from now");
        Assert.True(resumed["next_run_at"].Num() > clock.Now - 0.01);
        (await C.PostAsync($"/schedules/h/pause?namespace={ns}")).Expect(200);
        Assert.True((await WorkflowsAsync(ns)).Count <= count + 1, "nothing paused is backfilled on resume");
    }
}

public sealed class SqliteScheduleFiringTests(SqliteEngineFixture fx) : ScheduleFiringTests(fx), IClassFixture<SqliteEngineFixture>
{
    [Fact]
    public async Task Catch_up_after_downtime_runs_the_newest_missed_occurrence_once_or_nothing_with_window_zero()
    {
        var db = TestDatabases.NewSqliteFile();
        await using (var a = await Assay.Engine.Hosting.EngineHost.StartAsync(EngineFixture.Options(db)))
        {
            var c = new EngineClient(a.BaseUrl);
            (await c.PostAsync("/schedules", O(("name", "m"), ("workflow_type", "T"), ("cron_expr", "0 * * * * *")))).Expect(201);
            (await c.PostAsync("/schedules", O(("name", "z"), ("workflow_type", "T"), ("cron_expr", "0 * * * * *"), ("catchup_window_secs", 0)))).Expect(201);
        }
        // The engine was "down" for an hour; it comes back on a clock that moves only when the test moves it.
        await using var clock = new TestClock();
        var now = clock.Now;
        await using (var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db}"))
        {
            await conn.OpenAsync();
            var cmd = conn.CreateCommand();
            cmd.CommandText = "UPDATE workflow_schedules SET next_run_at = $t";
            cmd.Parameters.AddWithValue("$t", Math.Floor(now / 60) * 60 - 3600);
            await cmd.ExecuteNonQueryAsync();
        }
        await clock.StartEngineAsync(db);
        var cb = clock.Client;
        List<string> wfs = [];
        await clock.AdvanceUntilAsync(async () =>
        {
            wfs = (await cb.GetAsync("/workflows?limit=1000")).Expect(200).Arr.Select(w => w!["id"].Str()).ToList();
            return wfs.Any(id => id.StartsWith("m-"));
        }, 1, "the catch-up run");
        var m = wfs.Where(id => id.StartsWith("m-")).ToList();
        Assert.Single(m);
        Assert.Equal(Math.Floor(now / 60) * 60, SecsOf(m[0])); // the newest missed minute, once
        var z = wfs.Where(id => id.StartsWith("z-")).ToList();
        Assert.True(z.Count == 0 || SecsOf(z[0]) >= now - 3, "window 0: missed occurrences are skipped");
        var next = (await cb.GetAsync("/schedules/m")).Expect(200).Obj["next_run_at"].Num();
        Assert.InRange(next, now, now + 61);
    }
}

public sealed class PostgresScheduleFiringTests(PostgresEngineFixture fx) : ScheduleFiringTests(fx), IClassFixture<PostgresEngineFixture>;
