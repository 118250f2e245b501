using Assay.Engine.Core;
using Cronos;

namespace Assay.Engine.Schedules;

/// <summary>
/// Validation and next-fire computation for schedules (Cronos: seconds field, time zones, DST).
/// Accepts 6-field cron (sec min hour dom month dow), the reference's format; 5-field cron gets
/// a leading <c>0</c> seconds field; a 7th (year) field is accepted only as <c>*</c>.
/// The firing loop with overlap policies is the scheduler's (issue 7); it uses <see cref="NextRunAt"/>.
/// </summary>
public static class CronSchedule
{
    public static readonly string[] OverlapPolicies = ["skip", "queue", "cancel_old", "allow_all"];

    public static CronExpression ParseCron(string expr)
    {
        var fields = expr.Split(' ', StringSplitOptions.RemoveEmptyEntries);
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

    /// <summary>First occurrence strictly after <paramref name="afterEpoch"/>, as epoch seconds; null if none.</summary>
    public static double? NextRunAt(string cron, string? timezone, double afterEpoch)
    {
        var after = DateTime.UnixEpoch.AddSeconds(afterEpoch);
        var next = ParseCron(cron).GetNextOccurrence(after, ParseTimeZone(timezone), inclusive: false);
        return next is { } n ? (n - DateTime.UnixEpoch).TotalSeconds : null;
    }
}
