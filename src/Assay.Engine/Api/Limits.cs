namespace Assay.Engine.Api;

/// <summary>
/// Bounds on what a request may ask for, checked at the API edge so nothing the store or the
/// background loops cannot handle is ever written (docs/engine.md "Limits").
/// </summary>
internal static class Limits
{
    /// <summary>Longest id or name that is addressed in a URL path (workflow ids, namespaces, schedules, signals):
    /// a file name on every common file system (retention archives), and a sane URL segment.</summary>
    public const int MaxIdBytes = 255;

    /// <summary>Longest duration (timers, activity timeouts, retry intervals, retention): 100 years.
    /// Anything longer is a mistake, and a deadline that far out no longer fits a timestamp.</summary>
    public const double MaxDurationSecs = 100 * 366 * 86400.0;

    /// <summary>Latest time a request may name (backfill ranges): the end of year 9999, the calendar's limit.</summary>
    public const double MaxEpochSecs = 253402300799;

    /// <summary>Highest activity rate limit a queue may have (anything above is no limit in practice).</summary>
    public const double MaxActivitiesPerSecond = 1_000_000;

    /// <summary>Longest request path (with its query) answered by routing; longer ones get a JSON 414.</summary>
    public const int MaxPathBytes = 8 * 1024;

    /// <summary>
    /// An id or name that appears as one URL path segment. A <c>/</c> would split the segment (a
    /// client's <c>%2F</c> reaches routing still encoded, so the id could never be read, signalled or
    /// terminated), and <c>.</c> / <c>..</c> are removed by URL normalisation: all refused up front.
    /// </summary>
    public static string Id(string value, string what)
    {
        if (value.Length == 0) throw EngineException.Invalid($"'{what}' must not be empty");
        if (Encoding.UTF8.GetByteCount(value) > MaxIdBytes)
            throw EngineException.Invalid($"'{what}' is too long ({MaxIdBytes} bytes at most)");
        if (value.Contains('/')) throw EngineException.Invalid($"'{what}' must not contain '/'");
        if (value is "." or "..") throw EngineException.Invalid($"'{what}' must not be '.' or '..'");
        if (value.Any(char.IsControl)) throw EngineException.Invalid($"'{what}' must not contain control characters");
        return value;
    }

    /// <summary>A duration in seconds: finite, at most <see cref="MaxDurationSecs"/>, and positive or non-negative.</summary>
    public static double Duration(double value, string what, bool allowZero)
    {
        if (allowZero ? value < 0 : value <= 0)
            throw EngineException.Invalid(allowZero ? $"'{what}' must not be negative" : $"'{what}' must be positive");
        if (value > MaxDurationSecs)
            throw EngineException.Invalid($"'{what}' is too long ({MaxDurationSecs:0} seconds, 100 years, at most)");
        return value;
    }

    /// <summary>A point in time as epoch seconds, between 1970 and the end of year 9999.</summary>
    public static double EpochTime(double value, string what) =>
        value is >= 0 and <= MaxEpochSecs
            ? value
            : throw EngineException.Invalid($"'{what}' must be a time between 1970 and 9999 (epoch seconds 0 to {MaxEpochSecs:0})");
}
