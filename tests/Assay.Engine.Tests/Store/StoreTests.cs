using Assay.Engine.Core;
using Assay.Engine.Store;

namespace Assay.Engine.Tests.Store;

/// <summary>Store-level behaviour (docs/engine.md "Storage, durability and running several engines", where the API does not already cover it), on both backends.</summary>
public abstract class StoreTests
{
    protected abstract Backend Backend { get; }

    async Task<SqlEngineStore> OpenAsync(string? location = null)
    {
        location ??= await TestDatabases.NewBackendAsync(Backend);
        return await TestDatabases.OpenStoreAsync(Backend, location);
    }

    void Require()
    {
        if (Backend == Backend.Postgres) TestDatabases.RequirePostgres();
    }

    [SkippableFact]
    public async Task Migrations_are_versioned_and_idempotent()
    {
        Require();
        var location = await TestDatabases.NewBackendAsync(Backend);
        await using (var first = await OpenAsync(location))
        {
            Assert.Equal(Migrations.Latest, await first.SchemaVersionAsync());
            await first.MigrateAsync(); // second run: nothing to do, no error
            await first.StartWorkflowAsync(new StartWorkflowRequest("kept", "T", "main", "q", "{\"a\":1}", null, false));
        }
        await using var reopened = await OpenAsync(location);
        Assert.Equal(Migrations.Latest, await reopened.SchemaVersionAsync());
        Assert.Equal("{\"a\":1}", (await reopened.GetWorkflowAsync("kept"))!.Input);
    }

    [SkippableFact]
    public async Task Concurrent_migrations_do_not_collide()
    {
        Require();
        var location = await TestDatabases.NewBackendAsync(Backend);
        if (Backend == Backend.Sqlite) return; // one engine per SQLite file by design (guarded by the instance lock)
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => OpenAsync(location)));
        foreach (var s in stores)
        {
            Assert.Equal(Migrations.Latest, await s.SchemaVersionAsync());
            await s.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Event_seq_is_unique_per_workflow_even_under_concurrent_appends()
    {
        Require();
        await using var store = await OpenAsync();
        await store.StartWorkflowAsync(new StartWorkflowRequest("busy", "T", "main", "q", null, null, false));
        // Signals race each other (and would race timers/activity completions the same way).
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => store.SignalAsync("busy", "s", i.ToString())));
        var seqs = (await store.GetEventsAsync("busy")).Select(e => e.Seq).ToList();
        Assert.Equal(Enumerable.Range(1, 41).Select(i => (long)i), seqs);
    }

    [SkippableFact]
    public async Task Activity_claims_are_exclusive_under_concurrency()
    {
        Require();
        await using var store = await OpenAsync();
        await store.StartWorkflowAsync(new StartWorkflowRequest("acts", "T", "main", "q", null, null, false));
        for (var i = 1; i <= 10; i++) await store.ScheduleActivityAsync("acts", new ActivitySpec(i, "a", "aq", null));
        var claims = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => store.ClaimActivityAsync("aq", $"w{i}")));
        var won = claims.Where(c => c is not null).Select(c => c!.Id).ToList();
        Assert.Equal(10, won.Count);
        Assert.Equal(10, won.Distinct().Count());
    }

    [SkippableFact]
    public async Task Timers_fire_once_and_only_when_due()
    {
        Require();
        await using var store = await OpenAsync();
        await store.StartWorkflowAsync(new StartWorkflowRequest("timers", "T", "main", "tq", null, null, false));
        var task = await store.ClaimWorkflowTaskAsync("tq", "w", 30, 0);
        Assert.NotNull(task);
        await store.SubmitCommandsAsync("timers", "w", task!.LeaseToken,
            [new ScheduleTimerCommand(1, 0), new ScheduleTimerCommand(2, 3600)]);
        Assert.Equal(1, await store.FireDueTimersAsync());
        Assert.Equal(0, await store.FireDueTimersAsync());
        var fired = (await store.GetEventsAsync("timers")).Where(e => e.EventType == EventType.TimerFired).ToList();
        Assert.Single(fired);
        Assert.Contains("\"timer_seq\":1", fired[0].Payload);
        Assert.True(await store.NextTimerDueAsync() > TimeProvider.System.EpochSeconds() + 3000);
    }

    [SkippableFact]
    public async Task Dead_workers_are_removed_by_cutoff()
    {
        Require();
        await using var store = await OpenAsync();
        var id = await store.RegisterWorkerAsync(new WorkerRegistration("i", "q", "main", null, null, 10, 10));
        var now = TimeProvider.System.EpochSeconds();
        Assert.Equal(0, await store.RemoveDeadWorkersAsync(now - 30));
        Assert.Equal(1, await store.RemoveDeadWorkersAsync(now + 1));
        Assert.DoesNotContain(await store.ListWorkersAsync("main"), w => w.Id == id);
    }
}

public sealed class SqliteStoreTests : StoreTests
{
    protected override Backend Backend => Backend.Sqlite;
}

public sealed class PostgresStoreTests : StoreTests
{
    protected override Backend Backend => Backend.Postgres;
}
