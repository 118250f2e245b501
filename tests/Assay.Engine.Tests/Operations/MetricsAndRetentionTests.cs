using System.Text.RegularExpressions;
using Assay.Engine.Hosting;

namespace Assay.Engine.Tests.Operations;

public sealed class MetricsAndRetentionTests
{
    [Fact]
    public async Task Metrics_in_Prometheus_text()
    {
        await using var engine = await EngineHost.StartAsync(EngineFixture.Options(TestDatabases.NewSqliteFile()));
        var c = new EngineClient(engine.BaseUrl);
        (await c.PostAsync("/workflows", O(("workflow_type", "Metered"), ("workflow_id", "m1"), ("task_queue", "mq")))).Expect(201);
        (await c.PostAsync("/workflow-tasks/poll", O(("queue", "mq"), ("worker_id", "w1")))).Expect(200);
        (await c.PostAsync("/workflow-tasks/m1/commands", O(("worker_id", "w1"), ("commands", A(
            O(("type", "ScheduleActivity"), ("seq", 1), ("name", "act"), ("task_queue", "mq"))))))).Expect(200);
        (await c.PostAsync("/workflows", O(("workflow_type", "Metered"), ("workflow_id", "m2"), ("task_queue", "other")))).Expect(201);
        var act = (await c.PostAsync("/tasks/poll", O(("queue", "mq"), ("worker_id", "w1"), ("wait_secs", 1)))).Expect(200).Obj;
        (await c.PostAsync($"/tasks/{act["id"].Long()}/complete", O(("result", 1), ("worker_id", "w1"), ("attempt", 1)))).Expect(200);
        (await c.PostAsync("/workflow-tasks/poll", O(("queue", "mq"), ("worker_id", "w1")))).Expect(200);
        (await c.PostAsync("/workflow-tasks/m1/commands", O(("worker_id", "w1"), ("commands", A(O(("type", "CompleteWorkflow"), ("result", 2))))))).Expect(200);

        using var http = new HttpClient();
        var res = await http.GetAsync(engine.BaseUrl + "/metrics");
        Assert.Equal(200, (int)res.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", res.Content.Headers.ContentType!.ToString());
        var text = await res.Content.ReadAsStringAsync();
        Assert.Contains("assay_workflows_started_total{workflow_type=\"Metered\"} 2\n", text);
        Assert.Contains("assay_workflows_finished_total{workflow_type=\"Metered\",status=\"COMPLETED\"} 1\n", text);
        Assert.Contains("assay_activity_attempts_total{activity=\"act\"} 1\n", text);
        Assert.Contains("assay_activity_results_total{activity=\"act\",outcome=\"completed\"} 1\n", text);
        Assert.Contains("assay_activity_duration_seconds_count{activity=\"act\"} 1\n", text);
        Assert.Contains("assay_activity_duration_seconds_bucket{activity=\"act\",le=\"+Inf\"} 1\n", text);
        Assert.Contains("assay_poll_wait_seconds_count{kind=\"activity\",result=\"task\"} 1\n", text);
        Assert.Contains("assay_task_queue_pending_workflow_tasks{namespace=\"main\",queue=\"other\"} 1\n", text);
        Assert.Contains("# TYPE assay_store_write_seconds histogram\n", text);
        Assert.Contains("assay_scheduler_leader 1\n", text);
        // Every line is a comment or `name{labels} value`.
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.Matches(new Regex(@"^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{([a-z_]+=""[^""]*"",?)+\})? [-+0-9.eE]+(Inf)?)$"), line);
    }

    [Fact]
    public async Task Retention_archives_old_terminal_workflows_as_JSON_then_purges_them()
    {
        var dir = Path.Combine(Path.GetTempPath(), "assay-archive-" + Guid.NewGuid().ToString("N")[..8]);
        var o = EngineFixture.Options(TestDatabases.NewSqliteFile());
        o.ArchiveDirectory = dir;
        o.RetentionInterval = TimeSpan.FromMilliseconds(200);
        await using var engine = await EngineHost.StartAsync(o);
        var c = new EngineClient(engine.BaseUrl);
        (await c.PostAsync("/namespaces", O(("name", "ret"), ("retention_secs", 1)))).Expect(201);
        Assert.Equal(1, (await c.GetAsync("/namespaces")).Expect(200).Arr.Single(n => n!["name"].Str() == "ret")!["retention_secs"].Num());
        (await c.PostAsync("/workflows", O(("workflow_type", "Old"), ("workflow_id", "old:1"), ("namespace", "ret"), ("input", O(("x", 1)))))).Expect(201);
        (await c.PostAsync("/workflows/old:1/terminate", O(("reason", "done")))).Expect(200);
        (await c.PostAsync("/workflows", O(("workflow_type", "Live"), ("workflow_id", "live-1"), ("namespace", "ret")))).Expect(201);
        (await c.PostAsync("/workflows", O(("workflow_type", "Kept"), ("workflow_id", "kept-1")))).Expect(201);
        (await c.PostAsync("/workflows/kept-1/terminate", O(("reason", "done")))).Expect(200);
        Assert.Equal(200, (await c.GetAsync("/workflows/old:1")).Code); // not yet: younger than the retention

        var sw = System.Diagnostics.Stopwatch.StartNew();
        while ((await c.GetAsync("/workflows/old:1")).Code != 404)
        {
            Assert.True(sw.Elapsed.TotalSeconds < 5, "the old workflow was not purged");
            await Task.Delay(100);
        }
        var files = Directory.GetFiles(Path.Combine(dir, "ret"), "*.json");
        var file = Assert.Single(files);
        Assert.StartsWith("old_1-", Path.GetFileName(file));
        var archive = JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject();
        Assert.Equal(1, archive["format_version"].Long());
        Assert.Equal("old:1", archive["workflow"]!["id"].Str());
        Assert.Equal("FAILED", archive["workflow"]!["status"].Str());
        Assert.Equal(["WorkflowStarted", "WorkflowTerminated"], archive["events"]!.AsArray().Select(e => e!["event_type"].Str()).ToArray());
        Assert.NotNull(archive["activities"]);
        Assert.Equal(404, (await c.GetAsync("/workflows/old:1/events")).Code);
        Assert.Equal(200, (await c.GetAsync("/workflows/live-1")).Code); // running: kept
        Assert.Equal(200, (await c.GetAsync("/workflows/kept-1")).Code); // namespace without retention: kept

        var patched = (await c.PatchAsync("/namespaces/ret", O(("retention_secs", null)))).Expect(200).Obj;
        Assert.Null(patched["retention_secs"]);
        (await c.PatchAsync("/namespaces/ret", O(("retention_secs", -1)))).Expect(400);
        (await c.PatchAsync("/namespaces/nope", O(("retention_secs", 5)))).Expect(404);
    }
}

public sealed class OpenApiTests
{
    [Fact]
    public async Task The_OpenAPI_document_lists_every_route_and_the_docs_page_loads_nothing_from_elsewhere()
    {
        var o = EngineFixture.Options(TestDatabases.NewSqliteFile());
        o.AuthApiKey = true;
        await using var engine = await EngineHost.StartAsync(o);
        using var http = new HttpClient();
        var res = await http.GetAsync(engine.BaseUrl + "/api/v1/openapi.json"); // anonymous even with auth on
        Assert.Equal(200, (int)res.StatusCode);
        var doc = JsonNode.Parse(await res.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("3.1.0", doc["openapi"].Str());
        var paths = doc["paths"]!.AsObject();
        foreach (var (path, method) in new[] { ("/api/v1/workflows", "post"), ("/api/v1/namespaces/{name}", "patch"), ("/api/v1/queues", "get"),
                     ("/api/v1/activities/{id}", "get"), ("/api/v1/workflow-tasks/{id}/commands", "post"), ("/api/v1/events/stream", "get"),
                     ("/api/v1/schedules/{name}/backfill", "post"), ("/api/v1/api-keys/{prefix}", "delete"), ("/metrics", "get"), ("/api/v1/health", "get") })
            Assert.True(paths[path]?[method] is not null, $"{method} {path} missing");
        Assert.Empty(paths["/api/v1/health"]!["get"]!["security"]!.AsArray());
        Assert.Single(paths["/api/v1/workflows"]!["post"]!["security"]!.AsArray());
        Assert.Equal("id", paths["/api/v1/workflows/{id}"]!["get"]!["parameters"]![0]!["name"].Str());

        var page = await http.GetStringAsync(engine.BaseUrl + "/api/v1/docs");
        Assert.Contains("openapi.json", page);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", page);
    }
}

/// <summary>Dashboard smoke over HTTP (docs/operations.md "Dashboard and API docs"). Browser tests (Playwright) are still to come.</summary>
public sealed class DashboardTests
{
    [Fact]
    public async Task Dashboard_assets_are_embedded_anonymous_uncached_and_load_nothing_from_elsewhere()
    {
        var o = EngineFixture.Options(TestDatabases.NewSqliteFile());
        o.AuthApiKey = true;
        await using var engine = await EngineHost.StartAsync(o);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        foreach (var p in new[] { "/", "/workflow" })
        {
            var r = await http.GetAsync(engine.BaseUrl + p);
            Assert.Equal(308, (int)r.StatusCode);
            Assert.Equal("/workflow/", r.Headers.Location!.ToString());
        }
        foreach (var (path, type) in new[] { ("/workflow/", "text/html"), ("/workflow/app.js", "text/javascript"), ("/workflow/style.css", "text/css"),
                     ("/workflow/favicon.svg", "image/svg+xml"), ("/favicon.ico", "image/svg+xml"), ("/workflow/schedules", "text/html") })
        {
            var r = await http.GetAsync(engine.BaseUrl + path);
            Assert.Equal(200, (int)r.StatusCode);
            Assert.Equal(type, r.Content.Headers.ContentType!.MediaType);
            var cc = r.Headers.CacheControl!;
            Assert.True(cc.NoCache && cc.NoStore && cc.MustRevalidate, cc.ToString());
            var body = await r.Content.ReadAsStringAsync();
            Assert.DoesNotMatch("(src|href)=\"(https?:)?//", body);
            Assert.DoesNotContain("unpkg", body);
        }
        var js = await http.GetStringAsync(engine.BaseUrl + "/workflow/app.js");
        Assert.Contains("/api/v1/events/stream", js);
        Assert.Contains("Authorization", js);
        Assert.Equal(401, (int)(await http.GetAsync(engine.BaseUrl + "/api/v1/workflows")).StatusCode);
    }
}
