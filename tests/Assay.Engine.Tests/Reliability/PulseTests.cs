using Assay.Engine.Core;
using Microsoft.Extensions.Time.Testing;

namespace Assay.Engine.Tests.Reliability;

/// <summary>
/// A loop that sleeps until something is due computes its sleep from the clock, and the sleep can come out below a
/// millisecond (a timer due 0.2 s after a start, reached in 0.05 s steps of floating-point time). Timers tick in
/// whole milliseconds: such a wait was a 0 ms timer, over before the thing was due, and on a fake clock — where time
/// moves only when a test moves it — the loop went round for ever inside one <c>Advance</c>.
/// </summary>
public sealed class PulseTests
{
    [Fact]
    public async Task A_wait_shorter_than_a_millisecond_lasts_until_the_clock_has_moved()
    {
        var clock = new FakeTimeProvider();
        var never = new TaskCompletionSource().Task;
        foreach (var ticks in new long[] { 1, 10, 9_999 })
        {
            var wait = Pulse.WaitAsync(never, TimeSpan.FromTicks(ticks), clock, CancellationToken.None);
            clock.Advance(TimeSpan.Zero);
            await Task.Delay(20);
            Assert.False(wait.IsCompleted, $"a {ticks}-tick wait ended without the clock moving");
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(5)), "timed out, not woken");
        }
    }

    [Fact]
    public async Task A_wait_still_ends_at_once_when_woken()
    {
        var clock = new FakeTimeProvider();
        var pulse = new Pulse();
        var wait = Pulse.WaitAsync(pulse.Next, TimeSpan.FromTicks(5), clock, CancellationToken.None);
        pulse.Fire();
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
