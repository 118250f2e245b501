using System.Globalization;
using System.Text.RegularExpressions;
using Assay.Engine.Hosting;

namespace Assay.Engine.Tests.Reliability;

/// <summary>Issue 12 item 10: idle event-stream clients cost nothing per event; one reader serves them all.</summary>
public abstract class EventFanoutTests
{
    protected abstract Backend Backend { get; }

    static async Task<long> StreamReadsAsync(string baseUrl)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(baseUrl + "/metrics");
        var m = Regex.Match(text, @"^assay_event_stream_reads_total (\d+)$", RegexOptions.Multiline);
        Assert.True(m.Success, "no assay_event_stream_reads_total in /metrics");
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [SkippableFact]
    public async Task A_hundred_idle_clients_do_not_multiply_the_reads_per_event()
    {
        var o = EngineFixture.Options(await TestDatabases.NewBackendAsync(Backend));
        await using var engine = await EngineHost.StartAsync(o);
        var c = new EngineClient(engine.BaseUrl);
        (await c.PostAsync("/namespaces", O(("name", "loud")))).Expect(201);
        var url = engine.BaseUrl + "/api/v1/events/stream";
        var idle = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => SseReader.OpenAsync(url + "?namespace=quiet" + i)));
        await using var listener = await SseReader.OpenAsync(url + "?namespace=loud");
        var resumer = await SseReader.OpenAsync(url + "?namespace=loud", lastEventId: "0"); // reads the store once to catch up
        try
        {
            Assert.All(idle, s => Assert.Equal(200, s.Status));
            await Task.Delay(300);
            var before = await StreamReadsAsync(engine.BaseUrl);

            const int starts = 40;
            for (var i = 0; i < starts; i++)
                (await c.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", $"fan-{i}"), ("namespace", "loud")))).Expect(201);
            foreach (var s in new[] { listener, resumer })
            {
                var got = await s.CollectAsync(l => l.Count(e => e.Event == "workflow_event") >= starts);
                Assert.Equal(Enumerable.Range(0, starts).Select(i => $"fan-{i}"),
                    got.Where(e => e.Event == "workflow_event").Select(e => e.Data["workflow_id"].Str()));
            }
            foreach (var s in idle) Assert.Null(await s.NextAsync(0.01));

            // One read per batch of appends (at most one per start) plus the once-a-second re-check, not one per client.
            var reads = await StreamReadsAsync(engine.BaseUrl) - before;
            Assert.InRange(reads, 1, starts + 10);
        }
        finally
        {
            foreach (var s in idle) await s.DisposeAsync();
            await resumer.DisposeAsync();
        }
    }
}

public sealed class SqliteEventFanoutTests : EventFanoutTests
{
    protected override Backend Backend => Backend.Sqlite;
}

public sealed class PostgresEventFanoutTests : EventFanoutTests
{
    protected override Backend Backend => Backend.Postgres;
}
