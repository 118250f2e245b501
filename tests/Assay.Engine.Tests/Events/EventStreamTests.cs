using Assay.Engine.Hosting;

namespace Assay.Engine.Tests.Events;

/// <summary>GET /api/v1/events/stream: events, status changes, filters, Last-Event-ID resume, keep-alives, auth.</summary>
public abstract class EventStreamTests(EngineFixture fx) : TestBase(fx)
{
    string Url(string query) => C.BaseUrl + "/api/v1/events/stream?" + query;

    [SkippableFact]
    public async Task Carries_every_appended_event_and_status_change_of_its_namespace()
    {
        var ns = await NewNamespaceAsync();
        var other = await NewNamespaceAsync();
        await using var sse = await SseReader.OpenAsync(Url($"namespace={ns}"));
        Assert.Equal(200, sse.Status);
        Assert.Equal("text/event-stream", sse.ContentType);
        await Task.Delay(100);
        var foreign = await StartAsync("Other", ns: other);
        var id = await StartAsync("Streamed", O(("n", 1)), ns: ns);
        (await C.PostAsync($"/workflows/{id}/signal/go", O(("payload", O(("x", 2)))))).Expect(200);
        (await C.PostAsync($"/workflows/{id}/terminate", O(("reason", "enough")))).Expect(200);

        var got = await sse.CollectAsync(l => l.Any(e => e.Event == "workflow_event" && e.Data["event_type"].Str() == "WorkflowTerminated")
                                               && l.Any(e => e.Event == "status" && e.Data["status"].Str() == "FAILED"));
        var events = got.Where(e => e.Event == "workflow_event").ToList();
        Assert.Equal(["WorkflowStarted", "SignalReceived", "WorkflowTerminated"], events.Select(e => e.Data["event_type"].Str()).ToArray());
        Assert.All(events, e => Assert.Equal(id, e.Data["workflow_id"].Str()));
        Assert.All(events, e => Assert.Equal(e.Id, e.Data["id"]!.GetValue<long>().ToString()));
        Assert.Equal(2, events[1].Data["payload"]!["payload"]!["x"].Long()); // payload as JSON, not a string
        Assert.Equal(["id", "workflow_id", "namespace", "workflow_type", "seq", "event_type", "payload", "timestamp", "status"],
            events[0].Data.Select(p => p.Key).ToArray());
        Assert.Equal("Streamed", events[0].Data["workflow_type"].Str());
        Assert.Equal(["workflow_id", "namespace", "workflow_type", "status", "timestamp"],
            got.First(e => e.Event == "status").Data.Select(p => p.Key).ToArray());
        Assert.Equal("FAILED", events[2].Data["status"].Str());
        var statuses = got.Where(e => e.Event == "status").Select(e => e.Data["status"].Str()).ToList();
        Assert.Equal(["PENDING", "FAILED"], statuses);
        Assert.DoesNotContain(got, e => e.Data["workflow_id"].Str() == foreign);
    }

    [SkippableFact]
    public async Task Filters_by_workflow_id_and_resumes_after_Last_Event_ID()
    {
        var a = await StartAsync("A");
        var b = await StartAsync("B");
        foreach (var n in new[] { "s1", "s2", "s3" })
        {
            (await C.PostAsync($"/workflows/{a}/signal/{n}")).Expect(200);
            (await C.PostAsync($"/workflows/{b}/signal/{n}")).Expect(200);
        }
        // From the beginning (Last-Event-ID 0), only workflow a.
        await using var all = await SseReader.OpenAsync(Url($"workflow_id={a}"), lastEventId: "0");
        var got = await all.CollectAsync(l => l.Count(e => e.Event == "workflow_event") >= 4);
        var evs = got.Where(e => e.Event == "workflow_event").ToList();
        Assert.Equal(["WorkflowStarted", "SignalReceived", "SignalReceived", "SignalReceived"], evs.Select(e => e.Data["event_type"].Str()).ToArray());
        Assert.All(evs, e => Assert.Equal(a, e.Data["workflow_id"].Str()));

        // Reconnect after the second one: exactly the rest, in order.
        await using var resumed = await SseReader.OpenAsync(Url($"workflow_id={a}"), lastEventId: evs[1].Id);
        var rest = (await resumed.CollectAsync(l => l.Count(e => e.Event == "workflow_event") >= 2)).Where(e => e.Event == "workflow_event").ToList();
        Assert.Equal(new[] { evs[2].Id!, evs[3].Id! }, rest.Select(e => e.Id!).ToArray());
        Assert.Null(await resumed.NextAsync(0.5)); // nothing more
        Assert.Equal(400, (await C.SendAsync(HttpMethod.Get, "/events/stream?last_event_id=abc", null)).Code);
    }
}

public sealed class SqliteEventStreamTests(SqliteEngineFixture fx) : EventStreamTests(fx), IClassFixture<SqliteEngineFixture>
{
    [Fact]
    public async Task Keep_alives_and_auth_with_an_access_token()
    {
        var db = TestDatabases.NewSqliteFile();
        var (key, _) = await EngineAdmin.GenerateApiKeyAsync(EngineFixture.Options(db));
        var o = EngineFixture.Options(db);
        o.AuthApiKey = true;
        o.SseKeepAlive = TimeSpan.FromMilliseconds(300);
        await using var engine = await EngineHost.StartAsync(o);
        var url = engine.BaseUrl + "/api/v1/events/stream";
        await using (var anon = await SseReader.OpenAsync(url)) Assert.Equal(401, anon.Status);
        await using (var bad = await SseReader.OpenAsync(url + "?access_token=assay_nope")) Assert.Equal(401, bad.Status);
        await using var sse = await SseReader.OpenAsync(url + "?access_token=" + key);
        Assert.Equal(200, sse.Status);
        Assert.Null(await sse.NextAsync(1.0));
        Assert.Contains(": keep-alive", sse.Comments);
        await using var header = await SseReader.OpenAsync(url, bearer: key);
        Assert.Equal(200, header.Status);
    }
}

public sealed class PostgresEventStreamTests(PostgresEngineFixture fx) : EventStreamTests(fx), IClassFixture<PostgresEngineFixture>;
