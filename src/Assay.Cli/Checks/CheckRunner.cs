using System.Diagnostics;

namespace Assay.Cli.Checks;

public sealed record CheckResult(string Name, string Type, bool Passed, long DurationMs, string? Message, int Attempts);

/// <summary>
/// Runs the checks (one after another, or all at once with `parallel: true`): up to
/// retries + 1 attempts each, exponential backoff (backoff × 2^(k-1)) between them, a per-check
/// timeout per attempt and a global budget for the whole run.
/// </summary>
public sealed class CheckRunner(CheckConfig config, GlobalSettings settings, TextWriter progress)
{
    public async Task<(IReadOnlyList<CheckResult> Results, long DurationMs)> RunAsync()
    {
        var sw = Stopwatch.StartNew();
        using var budget = new CancellationTokenSource(config.Timeout);
        var results = new CheckResult?[config.Checks.Count];
        async Task RunOne(int i)
        {
            try { results[i] = await RunWithRetriesAsync(config.Checks[i], budget.Token); }
            catch (OperationCanceledException) when (budget.IsCancellationRequested) { }
        }
        if (config.Parallel) await Task.WhenAll(config.Checks.Select((_, i) => RunOne(i)));
        else
            for (int i = 0; i < config.Checks.Count && !budget.IsCancellationRequested; i++) await RunOne(i);
        var final = results.Select((r, i) => r ?? new CheckResult(config.Checks[i].Name, config.Checks[i].Type, false, 0,
            $"global timeout of {config.Timeout.TotalSeconds:0.###}s exceeded", 0)).ToList();
        return (final, sw.ElapsedMilliseconds);
    }

    async Task<CheckResult> RunWithRetriesAsync(CheckSpec spec, CancellationToken budget)
    {
        Attempt last = default;
        long duration = 0;
        int attempts = 0;
        for (int k = 1; k <= config.Retries + 1; k++)
        {
            attempts = k;
            var sw = Stopwatch.StartNew();
            last = await AttemptAsync(spec, budget);
            duration = sw.ElapsedMilliseconds;
            if (last.Passed) break;
            if (k <= config.Retries)
            {
                var delay = config.Backoff * Math.Pow(2, k - 1);
                progress.WriteLine($"check '{spec.Name}' failed (attempt {k}): {last.Message}; retrying in {delay.TotalSeconds:0.###}s");
                await Task.Delay(delay, budget);
            }
        }
        return new CheckResult(spec.Name, spec.Type, last.Passed, duration, last.Message, attempts);
    }

    async Task<Attempt> AttemptAsync(CheckSpec spec, CancellationToken budget)
    {
        using var perCheck = CancellationTokenSource.CreateLinkedTokenSource(budget);
        if (spec.Timeout is { } t) perCheck.CancelAfter(t);
        try
        {
            return await CheckTypes.RunAsync(spec, config, settings, perCheck.Token);
        }
        catch (OperationCanceledException) when (!budget.IsCancellationRequested)
        {
            return Attempt.Fail($"timed out after {spec.Timeout?.TotalSeconds:0.###}s");
        }
        catch (Exception e) when (e is HttpRequestException or FormatException or InvalidOperationException or UriFormatException)
        {
            return Attempt.Fail(e.Message);
        }
    }
}
