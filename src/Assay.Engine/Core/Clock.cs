namespace Assay.Engine.Core;

/// <summary>Wall-clock time as float seconds since the Unix epoch — the unit used on the wire and in every table.</summary>
public static class Clock
{
    public static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;
}
