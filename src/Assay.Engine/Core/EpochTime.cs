namespace Assay.Engine.Core;

/// <summary>Time as the engine stores it: float seconds since the Unix epoch — the unit used on the wire and in every
/// table. Always read from the injected <see cref="TimeProvider"/> (the system clock in production, a fake one in tests).</summary>
public static class EpochTime
{
    public static double EpochSeconds(this TimeProvider time) =>
        (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;
}
