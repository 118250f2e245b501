namespace Assay.Engine.Store;

// Queue settings (part of IRegistryStore) and the activity rate limit they carry. The limit is a token bucket in the queue's
// task_queues row: a claim on a limited queue locks the row, refills the bucket for the time passed, and takes a token in
// the claim's own transaction — so the limit holds across every worker and every engine sharing the database, and a
// claim that finds no token claims nothing. Queues without a limit never touch the row (see QueueNotRateLimited).
internal abstract partial class SqlEngineStore
{
    /// <summary>Claim guard (needs <c>@queue</c>): the queue has no rate limit. A claim with it is a single statement that
    /// claims nothing on a limited queue, which then goes through <see cref="ClaimWithinRateLimitAsync{T}"/>.</summary>
    const string QueueNotRateLimited =
        "NOT EXISTS (SELECT 1 FROM task_queues q WHERE q.name = @queue AND q.max_activities_per_second IS NOT NULL)";

    /// <summary>Runs <paramref name="claim"/> if the queue's bucket holds a token, and takes the token when it claimed
    /// something. Null when the queue has no limit (the unguarded claim already found nothing), no token is left, or
    /// nothing is due. Either way the queue's pollers are woken when the next token is there.</summary>
    async Task<T?> ClaimWithinRateLimitAsync<T>(Tx tx, string queue, Func<Task<T?>> claim) where T : class
    {
        // The row lock serialises the claims on one limited queue (across engines); other queues are not affected.
        var bucket = await tx.QuerySingleAsync(
            $"SELECT max_activities_per_second, tokens, tokens_at FROM task_queues WHERE name = @queue AND max_activities_per_second IS NOT NULL{D.ForUpdate}",
            x => new TokenBucket(x.Dbl("max_activities_per_second"), x.Dbl("tokens"), x.Dbl("tokens_at")), ("@queue", queue));
        if (bucket is null) return null;
        // Another engine's transaction may have committed a later time than ours: never count time backwards.
        var at = Math.Max(tx.Now, bucket.At);
        var tokens = bucket.TokensAt(at);
        if (tokens < 1)
        {
            tx.Wakes.Add(new Wake(WakeKind.ActivityThrottled, queue, bucket.NextTokenAt(at, tokens)));
            return null;
        }
        var claimed = await claim();
        if (claimed is null) return null; // nothing due: the token stays in the bucket
        tokens -= 1;
        await tx.ExecAsync("UPDATE task_queues SET tokens = @tokens, tokens_at = @at WHERE name = @queue",
            ("@tokens", tokens), ("@at", at), ("@queue", queue));
        // One more poller as soon as the next token is there, should more be waiting (each claim passes the turn on).
        tx.Wakes.Add(new Wake(WakeKind.ActivityThrottled, queue, bucket.NextTokenAt(at, tokens)));
        return claimed;
    }

    /// <summary>A queue's bucket as stored: refills at <paramref name="Rate"/> tokens a second up to max(1, rate), so after
    /// a quiet spell up to one second's worth of claims (at least one) go at once, then one every 1/rate seconds.</summary>
    sealed record TokenBucket(double Rate, double Tokens, double At)
    {
        double Capacity => Math.Max(1, Rate);
        public double TokensAt(double now) => Math.Min(Capacity, Tokens + Math.Max(0, now - At) * Rate);
        public double NextTokenAt(double now, double tokens) => tokens >= 1 ? now : now + (1 - tokens) / Rate;
    }

    public Task<QueueSettings> GetQueueSettingsAsync(string queue) => InReadAsync(async tx =>
        new QueueSettings
        {
            Queue = queue,
            MaxActivitiesPerSecond = await tx.ScalarAsync("SELECT max_activities_per_second FROM task_queues WHERE name = @queue",
                ("@queue", queue)) is { } rate ? Convert.ToDouble(rate) : null,
        });

    public Task<QueueSettings> SetQueueRateLimitAsync(string queue, double? maxActivitiesPerSecond) => WriteAsync(async tx =>
    {
        if (maxActivitiesPerSecond is { } rate)
            // A new bucket starts full; a changed rate keeps the bucket (the claim clamps it to the new size).
            await tx.ExecAsync(
                """
                INSERT INTO task_queues (name, max_activities_per_second, tokens, tokens_at, updated_at)
                VALUES (@queue, @rate, @full, @now, @now)
                ON CONFLICT (name) DO UPDATE SET max_activities_per_second = excluded.max_activities_per_second,
                    updated_at = excluded.updated_at
                """, ("@queue", queue), ("@rate", rate), ("@full", Math.Max(1, rate)), ("@now", tx.Now));
        else
            await tx.ExecAsync("UPDATE task_queues SET max_activities_per_second = NULL, updated_at = @now WHERE name = @queue",
                ("@queue", queue), ("@now", tx.Now));
        // Pollers held back by the old limit look again at once (on every engine).
        tx.Wakes.Add(new Wake(WakeKind.ActivityReleased, queue));
        return new QueueSettings { Queue = queue, MaxActivitiesPerSecond = maxActivitiesPerSecond };
    });

    /// <summary>Rate limits by queue name, for the queue statistics.</summary>
    static async Task<Dictionary<string, double>> RateLimitsAsync(Tx tx) =>
        (await tx.QueryAsync("SELECT name, max_activities_per_second FROM task_queues WHERE max_activities_per_second IS NOT NULL",
            x => (Name: x.Str("name"), Rate: x.Dbl("max_activities_per_second")))).ToDictionary(x => x.Name, x => x.Rate, StringComparer.Ordinal);
}
