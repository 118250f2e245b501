using Cronos;

namespace Assay.Engine.Schedules;

/// <summary>
/// Validation, next-fire computation and catch-up planning for schedules (Cronos: seconds field,
/// time zones, DST). Accepts 6-field cron (sec min hour dom month dow), the reference's format;
/// 5-field cron gets a leading <c>0</c> seconds field; a 7th (year) field is accepted only as
/// <c>*</c>; <c>@hourly</c>-style names (<c>@yearly @annually @monthly @weekly @daily @midnight
/// @hourly @every_minute @every_second</c>) are accepted too.
/// </summary>
public static class CronSchedule
{
    /// <summary>Overlap policies; <c>queue</c> and <c>cancel_old</c> are the reference's names for
    /// <c>buffer_one</c> and <c>cancel_other</c>.</summary>
    public static readonly string[] OverlapPolicies =
        ["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all", "queue", "cancel_old"];

    /// <summary>Missed occurrences older than this (after downtime) are not run; one newer than it runs once.</summary>
    public const double DefaultCatchupWindowSecs = 60;

    /// <summary>An occurrence at most this late counts as on time (fired individually, never merged).</summary>
    public const double OnTimeGraceSecs = 2;

    public static CronExpression ParseCron(string expr)
    {
        var trimmed = expr.Trim();
        if (trimmed.StartsWith('@'))
        {
            try { return CronExpression.Parse(trimmed, CronFormat.IncludeSeconds); }
            catch (CronFormatException e) { throw EngineException.Invalid($"invalid cron expression '{expr}': {e.Message}"); }
        }
        var fields = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 7)
        {
            if (fields[6] != "*") throw EngineException.Invalid($"invalid cron expression '{expr}': a year field must be '*'");
            fields = fields[..6];
        }
        try
        {
            return fields.Length switch
            {
                5 => CronExpression.Parse(string.Join(' ', fields), CronFormat.Standard),
                6 => CronExpression.Parse(string.Join(' ', fields), CronFormat.IncludeSeconds),
                _ => throw new CronFormatException("expected 5, 6 or 7 fields"),
            };
        }
        catch (CronFormatException e)
        {
            throw EngineException.Invalid($"invalid cron expression '{expr}': {e.Message}");
        }
    }

    public static TimeZoneInfo ParseTimeZone(string? tz)
    {
        if (string.IsNullOrWhiteSpace(tz) || tz.Equals("UTC", StringComparison.OrdinalIgnoreCase)) return TimeZoneInfo.Utc;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(tz);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw EngineException.Invalid($"invalid timezone: {tz}");
        }
    }

    public static string ValidateOverlap(string? policy)
    {
        policy ??= "skip";
        if (!OverlapPolicies.Contains(policy))
            throw EngineException.Invalid($"invalid overlap_policy '{policy}' (expected one of {string.Join(", ", OverlapPolicies)})");
        return policy;
    }

    /// <summary>The policy a stored name means (aliases resolved).</summary>
    public static string Canonical(string policy) => policy switch
    {
        "queue" => "buffer_one",
        "cancel_old" => "cancel_other",
        _ => policy,
    };

    public static double ValidateCatchupWindow(double? secs)
    {
        var v = secs ?? DefaultCatchupWindowSecs;
        if (double.IsNaN(v) || v < 0 || v > 366 * 86400) throw EngineException.Invalid("catchup_window_secs must be between 0 and one year");
        return v;
    }

    static DateTime ToUtc(double epoch) => DateTime.UnixEpoch.AddTicks((long)(epoch * TimeSpan.TicksPerSecond));
    static double ToEpoch(DateTime utc) => (utc - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    /// <summary>First occurrence strictly after <paramref name="afterEpoch"/>, as epoch seconds; null if none.</summary>
    public static double? NextRunAt(string cron, string? timezone, double afterEpoch)
    {
        var next = ParseCron(cron).GetNextOccurrence(ToUtc(afterEpoch), ParseTimeZone(timezone), inclusive: false);
        return next is { } n ? ToEpoch(n) : null;
    }

    /// <summary>Occurrences in [from, to] (both inclusive), at most <paramref name="max"/>.</summary>
    public static List<double> Occurrences(string cron, string? timezone, double from, double to, int max)
    {
        var list = new List<double>();
        if (to < from) return list;
        foreach (var o in ParseCron(cron).GetOccurrences(ToUtc(from), ToUtc(to), ParseTimeZone(timezone), fromInclusive: true, toInclusive: true))
        {
            if (list.Count >= max) break;
            list.Add(ToEpoch(o));
        }
        return list;
    }

    /// <summary>
    /// What a due schedule fires now. Occurrences from <paramref name="nextRunAt"/> up to
    /// <paramref name="now"/>: those at most <see cref="OnTimeGraceSecs"/> late fire each; older
    /// ones were missed (the engine was down): the newest missed one inside the catch-up window
    /// runs once, the rest are skipped. Returns the scheduled times to fire (ascending) and the
    /// next occurrence after now.
    /// </summary>
    public static (List<double> Fires, double? NextRunAt) PlanFires(string cron, string? timezone, double nextRunAt, double now,
        double catchupWindowSecs)
    {
        var from = Math.Max(nextRunAt, now - Math.Max(catchupWindowSecs, OnTimeGraceSecs) - 1);
        var occurrences = Occurrences(cron, timezone, from, now, 100_000);
        var fires = new List<double>();
        double? newestMissed = null;
        foreach (var t in occurrences)
        {
            if (t >= now - OnTimeGraceSecs) fires.Add(t);
            else if (t >= now - catchupWindowSecs) newestMissed = t;
        }
        if (newestMissed is { } m) fires.Insert(0, m);
        return (fires, NextRunAt(cron, timezone, now));
    }
}
