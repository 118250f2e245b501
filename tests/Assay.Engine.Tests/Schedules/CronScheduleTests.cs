using Assay.Engine.Core;
using Assay.Engine.Schedules;

namespace Assay.Engine.Tests.Schedules;

/// <summary>Cron parsing, time zones with DST, and the catch-up plan (pure functions, no engine).</summary>
public sealed class CronScheduleTests
{
    static double Epoch(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds() / 1000.0;
    static string Iso(double epoch) => DateTimeOffset.FromUnixTimeMilliseconds((long)(epoch * 1000)).ToString("yyyy-MM-ddTHH:mm:ssZ");

    [Theory]
    [InlineData("0 * * * *", "2026-01-01T10:15:00Z", "2026-01-01T11:00:00Z")]          // 5 fields: seconds = 0
    [InlineData("30 0 * * * *", "2026-01-01T10:15:00Z", "2026-01-01T11:00:30Z")]       // 6 fields
    [InlineData("0 0 * * * * *", "2026-01-01T10:15:00Z", "2026-01-01T11:00:00Z")]      // 7th field '*'
    [InlineData("@hourly", "2026-01-01T10:15:00Z", "2026-01-01T11:00:00Z")]
    [InlineData("@daily", "2026-01-01T10:15:00Z", "2026-01-02T00:00:00Z")]
    [InlineData("@every_second", "2026-01-01T10:15:00Z", "2026-01-01T10:15:01Z")]
    [InlineData("0 0 9 * * MON-FRI", "2026-01-03T10:00:00Z", "2026-01-05T09:00:00Z")]  // Saturday → Monday
    public void Cron_forms(string cron, string after, string expected) =>
        Assert.Equal(expected, Iso(CronSchedule.NextRunAt(cron, "UTC", Epoch(after))!.Value));

    [Theory]
    [InlineData("every hour")]
    [InlineData("61 * * * *")]
    [InlineData("* * * *")]
    [InlineData("0 0 * * * * 2027")]
    [InlineData("@sometimes")]
    public void Invalid_cron_is_rejected(string cron) =>
        Assert.Equal(ErrorKind.Invalid, Assert.Throws<EngineException>(() => CronSchedule.ParseCron(cron)).Kind);

    [Fact]
    public void Zones_and_policies_are_validated()
    {
        Assert.Throws<EngineException>(() => CronSchedule.ParseTimeZone("Mars/Base"));
        Assert.Equal(TimeZoneInfo.Utc, CronSchedule.ParseTimeZone(""));
        Assert.Equal(TimeZoneInfo.Utc, CronSchedule.ParseTimeZone("utc"));
        foreach (var p in new[] { "skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all", "queue", "cancel_old" })
            Assert.Equal(p, CronSchedule.ValidateOverlap(p));
        Assert.Equal("buffer_one", CronSchedule.Canonical("queue"));
        Assert.Equal("cancel_other", CronSchedule.Canonical("cancel_old"));
        Assert.Throws<EngineException>(() => CronSchedule.ValidateOverlap("sometimes"));
    }

    [Fact]
    public void Daily_time_in_Berlin_across_DST_transitions()
    {
        // Winter: 02:30 CET = 01:30Z; summer: 02:30 CEST = 00:30Z.
        Assert.Equal("2026-03-28T01:30:00Z", Iso(CronSchedule.NextRunAt("0 30 2 * * *", "Europe/Berlin", Epoch("2026-03-27T12:00:00Z"))!.Value));
        // 2026-03-29: clocks jump 02:00 → 03:00, 02:30 does not exist: it runs at the jump (03:00 CEST = 01:00Z), once.
        Assert.Equal("2026-03-29T01:00:00Z", Iso(CronSchedule.NextRunAt("0 30 2 * * *", "Europe/Berlin", Epoch("2026-03-28T12:00:00Z"))!.Value));
        Assert.Equal("2026-03-30T00:30:00Z", Iso(CronSchedule.NextRunAt("0 30 2 * * *", "Europe/Berlin", Epoch("2026-03-29T01:00:00Z"))!.Value));
        // 2026-10-25: 03:00 CEST → 02:00 CET, 02:30 happens twice; a daily job runs once (the first), then next day in CET.
        var first = CronSchedule.NextRunAt("0 30 2 * * *", "Europe/Berlin", Epoch("2026-10-24T12:00:00Z"))!.Value;
        Assert.Equal("2026-10-25T00:30:00Z", Iso(first));
        Assert.Equal("2026-10-26T01:30:00Z", Iso(CronSchedule.NextRunAt("0 30 2 * * *", "Europe/Berlin", first)!.Value));
        // The same cron in UTC and Berlin differ.
        Assert.NotEqual(CronSchedule.NextRunAt("0 0 2 * * *", "UTC", Epoch("2026-06-01T00:00:00Z")),
            CronSchedule.NextRunAt("0 0 2 * * *", "Europe/Berlin", Epoch("2026-06-01T00:00:00Z")));
    }

    [Fact]
    public void Hourly_in_New_York_on_fall_back_day_fires_every_real_hour()
    {
        // 2026-11-01: 02:00 EDT → 01:00 EST; an hourly schedule keeps firing every real hour (the 01:00 hour twice).
        var times = CronSchedule.Occurrences("0 0 * * * *", "America/New_York", Epoch("2026-11-01T04:00:00Z"), Epoch("2026-11-01T08:00:00Z"), 100);
        Assert.Equal(["2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"],
            times.Select(Iso).ToArray());
    }

    [Fact]
    public void Catch_up_after_downtime_runs_the_newest_missed_occurrence_once_inside_the_window()
    {
        var now = Epoch("2026-01-01T12:00:30.5Z");
        // Every 10 s; down since 11:50 (next_run_at was 11:50:00).
        var (fires, next) = CronSchedule.PlanFires("*/10 * * * * *", "UTC", Epoch("2026-01-01T11:50:00Z"), now, 60);
        // 12:00:20 is the newest missed one (runs once; 11:50 … 12:00:10 are dropped); 12:00:30 is 0.5 s late: on time.
        Assert.Equal(["2026-01-01T12:00:20Z", "2026-01-01T12:00:30Z"], fires.Select(Iso).ToArray());
        Assert.Equal("2026-01-01T12:00:40Z", Iso(next!.Value));
    }

    [Fact]
    public void On_time_occurrences_fire_each_missed_ones_collapse_and_window_zero_skips_them()
    {
        var now = Epoch("2026-01-01T12:00:31.2Z");
        // Every second, 20 s down: the on-time ones (≤ 2 s late: :30, :31 — :29.2 is the edge) fire each.
        var (fires, _) = CronSchedule.PlanFires("* * * * * *", "UTC", Epoch("2026-01-01T12:00:11Z"), now, 60);
        Assert.Equal(["2026-01-01T12:00:29Z", "2026-01-01T12:00:30Z", "2026-01-01T12:00:31Z"], fires.Select(Iso).ToArray());
        var (none, _) = CronSchedule.PlanFires("* * * * * *", "UTC", Epoch("2026-01-01T12:00:11Z"), now, 0);
        Assert.Equal(["2026-01-01T12:00:30Z", "2026-01-01T12:00:31Z"], none.Select(Iso).ToArray());
        // Outside the window: nothing missed runs.
        var (old, _) = CronSchedule.PlanFires("0 0 * * * *", "UTC", Epoch("2026-01-01T09:00:00Z"), now + 300, 60);
        Assert.Empty(old);
    }
}
