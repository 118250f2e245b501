using System.Text;

namespace Assay.Engine.Tests.Reliability;

/// <summary>Issue 12 (items 11-15): what the API refuses up front, and the JSON shape of every refusal.</summary>
public abstract class InputLimitTests(EngineFixture fx) : TestBase(fx)
{
    [SkippableFact]
    public async Task Ids_that_could_never_be_addressed_are_refused_at_start()
    {
        foreach (var bad in new[] { "a/b", "/lead", ".", "..", new string('x', 256), "tab\there" })
        {
            var r = await C.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", bad)));
            Assert.Equal(400, r.Code);
            Assert.Contains("workflow_id", r.Error);
        }
        // 255 bytes is the limit, counted in UTF-8 (é is two bytes).
        var longest = Uid("id") + new string('x', 255 - 13);
        Assert.Equal(255, Encoding.UTF8.GetByteCount(longest));
        (await C.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", longest)))).Expect(201);
        Assert.Equal(longest, (await DescribeAsync(longest))["id"].Str());
        (await C.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", new string('é', 128))))).Expect(400);

        // Every other id-like field addressed in a path: namespaces, schedules, children, signals.
        Assert.Contains("name", (await C.PostAsync("/namespaces", O(("name", "a/b")))).Expect(400).Error);
        (await C.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", Uid("w")), ("namespace", "x/y")))).Expect(400);
        (await C.PostAsync("/schedules", O(("name", "s/1"), ("workflow_type", "T"), ("cron_expr", "0 * * * * *")))).Expect(400);
        (await C.PostAsync("/schedules", O(("name", new string('s', 256)), ("workflow_type", "T"), ("cron_expr", "0 * * * * *")))).Expect(400);

        var (id, _, _) = await StartAndClaimAsync();
        var child = await SubmitAsync(id, "w-test", O(("type", "StartChildWorkflow"), ("workflow_type", "C"), ("workflow_id", "kid/1")));
        Assert.Equal(400, child.Code);
        Assert.Contains("workflow_id", child.Error);
        var (id2, _, _) = await StartAndClaimAsync();
        (await SubmitAsync(id2, "w-test", O(("type", "WaitForSignal"), ("name", "go/now")))).Expect(400);
    }

    [SkippableFact]
    public async Task Durations_out_of_range_are_refused()
    {
        foreach (var (what, value) in new[] { ("start_to_close_secs", 1e308), ("heartbeat_timeout_secs", 4e9),
                                              ("initial_interval_secs", 1e300), ("max_interval_secs", 1e20) })
        {
            var (id, queue, _) = await StartAndClaimAsync();
            var r = await SubmitAsync(id, "w-test", ScheduleActivity(1, "a", queue, null, (what, value)));
            Assert.Equal(400, r.Code);
            Assert.Contains(what, r.Error);
            Assert.DoesNotContain("ActivityScheduled", await EventTypesAsync(id));
            (await C.PostAsync($"/workflows/{id}/activities", O(("name", "a"), ("seq", 9), ("task_queue", queue), (what, value)))).Expect(400);
        }
        var (wf, _, _) = await StartAndClaimAsync();
        Assert.Contains("duration_secs", (await SubmitAsync(wf, "w-test", O(("type", "ScheduleTimer"), ("seq", 1), ("duration_secs", 1e12)))).Expect(400).Error);
        Assert.DoesNotContain("TimerScheduled", await EventTypesAsync(wf));
        Assert.Contains("retention_secs", (await C.PostAsync("/namespaces", O(("name", Uid("ns")), ("retention_secs", 1e12)))).Expect(400).Error);
        // A century is fine.
        var (ok, _, _) = await StartAndClaimAsync();
        (await SubmitAsync(ok, "w-test", O(("type", "ScheduleTimer"), ("seq", 1), ("duration_secs", 3e9)))).Expect(200);
    }

    [SkippableFact]
    public async Task Backfill_outside_the_calendar_is_a_400()
    {
        var name = Uid("bf");
        (await C.PostAsync("/schedules", O(("name", name), ("workflow_type", "T"), ("cron_expr", "0 0 * * * *")))).Expect(201);
        foreach (var (from, to) in new[] { (-1e18, 0.0), (0.0, 1e18), (-1.0, 10.0) })
        {
            var r = await C.PostAsync($"/schedules/{name}/backfill", O(("from", from), ("to", to)));
            Assert.Equal(400, r.Code);
            Assert.Contains("between 1970 and 9999", r.Error);
        }
        (await C.PostAsync($"/schedules/{name}/backfill", O(("from", 0), ("to", 7200)))).Expect(200);
    }

    [SkippableFact]
    public async Task Wait_beyond_the_maximum_is_a_400_like_a_negative_one()
    {
        foreach (var path in new[] { "/tasks/poll", "/workflow-tasks/poll" })
        {
            Assert.Contains("wait_secs", (await C.PostAsync(path, O(("queue", "q"), ("worker_id", "w"), ("wait_secs", 1e9)))).Expect(400).Error);
            Assert.Contains("wait_secs", (await C.PostAsync(path, O(("queue", "q"), ("worker_id", "w"), ("wait_secs", 30.5)))).Expect(400).Error);
            Assert.Contains("wait_secs", (await C.PostAsync(path, O(("queue", "q"), ("worker_id", "w"), ("wait_secs", -1)))).Expect(400).Error);
            (await C.PostAsync(path, O(("queue", Uid("q")), ("worker_id", "w"), ("wait_secs", 0)))).Expect(200);
        }
    }

    [SkippableFact]
    public async Task Refusals_by_routing_are_JSON_and_a_wrong_method_is_405()
    {
        var wrong = await C.SendAsync(HttpMethod.Delete, "/workflows", null);
        Assert.Equal(405, wrong.Code);
        Assert.Equal("application/json", wrong.ContentType);
        Assert.Contains("DELETE", wrong.Error);
        var openapi = await C.PostAsync("/openapi.json", "{}");
        Assert.Equal(405, openapi.Code);
        Assert.Contains("POST", openapi.Error);
        Assert.Equal(405, (await C.SendAsync(HttpMethod.Put, $"/workflows/{Uid("x")}", null)).Code);
        var none = await C.GetAsync("/no-such-thing");
        Assert.Equal(404, none.Code);
        Assert.Contains("no route", none.Error);

        // The generated API description states the limits.
        var doc = (await C.GetAsync("/openapi.json")).Expect(200).Obj;
        var idParam = doc["paths"]!["/api/v1/workflows/{id}"]!["get"]!["parameters"]![0]!["schema"]!;
        Assert.Equal(255, idParam["maxLength"]!.GetValue<int>());
        Assert.Equal("integer", doc["paths"]!["/api/v1/activities/{id}"]!["get"]!["parameters"]![0]!["schema"]!["type"].Str());
        Assert.Contains("503", doc["info"]!["description"].Str());
        Assert.Contains("lease_token", doc["info"]!["description"].Str());

        var longPath = await C.GetAsync("/workflows/" + new string('a', 9000));
        Assert.Equal(414, longPath.Code);
        Assert.Contains("too long", longPath.Error);
    }
}

public sealed class SqliteInputLimitTests(SqliteEngineFixture fx) : InputLimitTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresInputLimitTests(PostgresEngineFixture fx) : InputLimitTests(fx), IClassFixture<PostgresEngineFixture>;

/// <summary>Requests the HTTP server itself refuses before routing still get the JSON error shape.</summary>
public sealed class RawRejectionTests
{
    static async Task<(int Status, string Head, string Body)> RawAsync(string baseUrl, string requestLine)
    {
        var uri = new Uri(baseUrl);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(requestLine + "\r\nHost: x\r\n\r\n"));
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        var text = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)); // the server closes after a rejection
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (int.Parse(text[9..12]), text[..split], text[(split + 4)..]);
    }

    [Fact]
    public async Task Nul_in_the_path_and_an_oversized_request_line_answer_JSON()
    {
        await using var engine = await Assay.Engine.Hosting.EngineHost.StartAsync(EngineFixture.Options(TestDatabases.NewSqliteFile()));
        foreach (var (line, status) in new[]
                 {
                     ("GET /api/v1/workflows/a%00b HTTP/1.1", 400),
                     ("GET /api/v1/workflows/" + new string('a', 100_000) + " HTTP/1.1", 414),
                     ("BREW / HTTP/1.1 extra", 400),
                 })
        {
            var (code, head, body) = await RawAsync(engine.BaseUrl, line);
            Assert.Equal(status, code);
            Assert.Contains("Content-Type: application/json", head);
            var error = JsonNode.Parse(body)!["error"].Str();
            Assert.False(string.IsNullOrEmpty(error));
        }
        // Ordinary traffic on the same server is untouched.
        var ok = await new EngineClient(engine.BaseUrl).GetAsync("/health");
        Assert.Equal(200, ok.Code);
    }
}
