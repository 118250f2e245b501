using Assay.Engine.Core;
using Assay.Engine.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Assay.Engine.Tests.Infrastructure;

/// <summary>
/// An engine of its own on a fake clock (<see cref="EngineOptions.TimeProvider"/>): its time moves only when the test
/// moves it, so leases, timers, retries and schedules are tested without sleeping through them. The clock starts at the
/// real time (cron times and backfill bounds stay realistic). Dispose to stop the engine.
/// </summary>
public sealed class TestClock : IAsyncDisposable
{
    public FakeTimeProvider Provider { get; } = new(DateTimeOffset.UtcNow);
    public RunningEngine Engine { get; private set; } = null!;
    public EngineClient Client { get; private set; } = null!;

    /// <summary>The engine's "now", epoch seconds.</summary>
    public double Now => Provider.EpochSeconds();

    /// <summary>Real time the engine gets after a step to act on it (run a due loop, answer a woken poll).</summary>
    static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(50);

    /// <summary>Starts an engine on a fresh database of <paramref name="backend"/> running on this clock.</summary>
    public static async Task<TestClock> StartAsync(Backend backend, Action<EngineOptions>? configure = null) =>
        await StartAsync(await TestDatabases.NewBackendAsync(backend), configure);

    public static async Task<TestClock> StartAsync(string backendUrl, Action<EngineOptions>? configure = null)
    {
        var clock = new TestClock();
        await clock.StartEngineAsync(backendUrl, configure);
        return clock;
    }

    /// <summary>Starts another engine on the same clock (several engines sharing one database and one time).</summary>
    public async Task<RunningEngine> StartEngineAsync(string backendUrl, Action<EngineOptions>? configure = null)
    {
        var o = EngineFixture.Options(backendUrl);
        o.TimeProvider = Provider;
        configure?.Invoke(o);
        var engine = await EngineHost.StartAsync(o);
        if (Engine is null)
        {
            Engine = engine;
            Client = new EngineClient(engine.BaseUrl);
        }
        return engine;
    }

    /// <summary>Jumps ahead in one step: for a stretch in which nothing is due (loops that wake see nothing to do).</summary>
    public void Jump(double secs) => Provider.Advance(TimeSpan.FromSeconds(secs));

    /// <summary>Moves time on in small steps, giving the engine a moment after each, until <paramref name="done"/> holds;
    /// answers the engine time that passed. Fails after <paramref name="maxSecs"/> of engine time.</summary>
    public async Task<double> AdvanceUntilAsync(Func<Task<bool>> done, double maxSecs, string what, double stepSecs = 0.05)
    {
        var start = Now;
        while (!await SettledAsync(done))
        {
            if (Now - start > maxSecs) throw new Xunit.Sdk.XunitException($"{what}: not after {maxSecs} s of engine time");
            Provider.Advance(TimeSpan.FromSeconds(stepSecs));
        }
        return Now - start;
    }

    /// <summary>Moves time on until <paramref name="pending"/> (a request waiting on the engine) completes.</summary>
    public Task<double> AdvanceUntilAsync(Task pending, double maxSecs, string what, double stepSecs = 0.05) =>
        AdvanceUntilAsync(async () => await Task.WhenAny(pending, Task.Delay(Settle)) == pending, maxSecs, what, stepSecs);

    /// <summary>Moves time on by <paramref name="secs"/> in small steps, so every loop sees every moment of it.</summary>
    public async Task RunAsync(double secs, double stepSecs = 0.02)
    {
        var end = Now + secs;
        while (Now < end)
        {
            Provider.Advance(TimeSpan.FromSeconds(Math.Min(stepSecs, end - Now)));
            await Task.Delay(5);
        }
    }

    /// <summary>Checks <paramref name="done"/>, re-checking for a short real while (the engine acts asynchronously).</summary>
    static async Task<bool> SettledAsync(Func<Task<bool>> done)
    {
        var until = DateTime.UtcNow + Settle;
        while (true)
        {
            if (await done()) return true;
            if (DateTime.UtcNow >= until) return false;
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Engine is not null) await Engine.DisposeAsync();
    }
}
