using System.Diagnostics;

namespace Assay.Engine.Tests.Api;

/// <summary>docs/engine.md "REST API" and its error model, over real HTTP.</summary>
public abstract class RestBasicsTests(EngineFixture fx) : TestBase(fx)
{
    [SkippableFact]
    public async Task Health_and_version()
    {
        var health = (await C.GetAsync("/health")).Expect(200);
        Assert.Equal("ok", health.Obj["status"].Str());
        Assert.Equal("assay-workflow", health.Obj["service"].Str());
        var version = (await C.GetAsync("/version")).Expect(200).Obj;
        Assert.False(string.IsNullOrEmpty(version["version"].Str()));
        Assert.Contains(version["build_profile"].Str(), new[] { "debug", "release" });
    }

    [SkippableFact]
    public async Task Start_list_describe_events()
    {
        var ns = await NewNamespaceAsync();
        var start = (await C.PostAsync("/workflows", O(("workflow_type", "IngestData"), ("workflow_id", Uid("wf-test")),
            ("namespace", ns), ("input", O(("source", "s3://bucket")))))).Expect(201).Obj;
        var id = start["workflow_id"].Str();
        Assert.Equal("PENDING", start["status"].Str());
        Assert.StartsWith("run-" + id, start["run_id"].Str());

        var list = (await C.GetAsync($"/workflows?namespace={ns}")).Expect(200).Arr;
        Assert.Single(list);
        Assert.Equal(id, list[0]!["id"].Str());

        var wf = await DescribeAsync(id);
        Assert.Equal("IngestData", wf["workflow_type"].Str());
        Assert.Equal("main", (await DescribeAsync(await StartAsync("X")))["namespace"].Str());
        Assert.Equal("s3://bucket", wf["input"].Decode()!["source"].Str()); // JSON text on the wire, like the reference
        Assert.Equal("main", wf["task_queue"].Str()); // REST default queue

        var events = await EventsAsync(id);
        Assert.Single(events);
        Assert.Equal("WorkflowStarted", events[0]["event_type"].Str());
        Assert.Equal(1, events[0]["seq"].Long());
    }

    [SkippableFact]
    public async Task Signal_then_cancel_pending_workflow()
    {
        var id = await StartAsync("SigTest");
        (await C.PostAsync($"/workflows/{id}/signal/approve", O(("payload", O(("approved", true)))))).Expect(200);
        (await C.PostAsync($"/workflows/{id}/cancel")).Expect(200);
        var wf = await DescribeAsync(id);
        Assert.Equal("CANCELLED", wf["status"].Str()); // never picked up by a worker: cancelled at once
        Assert.NotNull(wf["completed_at"]);
        // The reference answers 404 here; a cancel of a finished workflow is a conflict for us (both are non-2xx).
        var again = (await C.PostAsync($"/workflows/{id}/cancel")).Expect(409);
        Assert.Contains("CANCELLED", again.Error);
        Assert.Equal(["WorkflowStarted", "SignalReceived", "WorkflowCancelRequested", "WorkflowCancelled"], await EventTypesAsync(id));
        var signal = (await EventsAsync(id))[1]["payload"].Decode()!;
        Assert.Equal("approve", signal["signal"].Str());
        Assert.True(signal["payload"]!["approved"]!.GetValue<bool>());
    }

    [SkippableFact]
    public async Task Register_worker_and_empty_polls()
    {
        var ns = await NewNamespaceAsync();
        var reg = (await C.PostAsync("/workers/register", O(("identity", "w1"), ("queue", "default"), ("namespace", ns),
            ("activities", A("fetch_data"))))).Expect(200).Obj;
        var workerId = reg["worker_id"].Str();
        Assert.StartsWith("w-", workerId);
        var workers = (await C.GetAsync($"/workers?namespace={ns}")).Expect(200).Arr;
        Assert.Single(workers);
        Assert.Equal("[\"fetch_data\"]", workers[0]!["activities"].Str());
        (await C.PostAsync("/workers/heartbeat", O(("worker_id", workerId)))).Expect(200);
        (await C.PostAsync("/workers/heartbeat", O(("worker_id", "w-nobody")))).Expect(404);

        var queue = Uid("empty");
        Assert.Equal("{\"task\":null}", (await C.PostAsync("/tasks/poll", O(("queue", queue), ("worker_id", workerId)))).Expect(200).Body);
        Assert.Equal("null", (await C.PostAsync("/workflow-tasks/poll", O(("queue", queue), ("worker_id", workerId)))).Expect(200).Body);
    }

    [SkippableFact]
    public async Task Unknown_ids_are_404_with_json_errors()
    {
        Assert.Contains("not found", (await C.GetAsync("/workflows/nonexistent")).Expect(404).Error);
        (await C.GetAsync("/workflows/nonexistent/events")).Expect(404);
        (await C.GetAsync("/workflows/nonexistent/children")).Expect(404);
        (await C.GetAsync("/workflows/nonexistent/state")).Expect(404);
        (await C.PostAsync("/workflows/nonexistent/signal/x", "{}")).Expect(404);
        (await C.PostAsync("/workflows/nonexistent/cancel")).Expect(404);
        (await C.PostAsync("/workflows/nonexistent/terminate", "{}")).Expect(404);
        (await C.PostAsync("/workflows/nonexistent/continue-as-new", "{}")).Expect(404);
        (await C.PostAsync("/workflows/nonexistent/activities", O(("name", "a"), ("seq", 1), ("task_queue", "q")))).Expect(404);
        (await C.GetAsync("/activities/987654321")).Expect(404);
        (await C.PostAsync("/tasks/987654321/complete", "{}")).Expect(404);
        (await C.PostAsync("/tasks/987654321/fail", O(("error", "x")))).Expect(404);
        (await C.PostAsync("/tasks/987654321/heartbeat", "{}")).Expect(404);
        (await C.PostAsync("/workflow-tasks/nonexistent/commands", O(("worker_id", "w"), ("commands", A())))).Expect(404);
        (await C.GetAsync("/namespaces/nonexistent")).Expect(404);
        (await C.GetAsync("/workflows?namespace=nonexistent")).Expect(404);
        (await C.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", Uid("x")), ("namespace", "nonexistent")))).Expect(404);
        var route = (await C.GetAsync("/no/such/route")).Expect(404);
        Assert.Equal("application/json", route.ContentType);
        Assert.NotNull(route.Error);
    }

    [SkippableFact]
    public async Task Malformed_input_is_400_never_500()
    {
        (await C.PostAsync("/workflows", "{not json")).Expect(400);
        (await C.PostAsync("/workflows", "5")).Expect(400);
        (await C.PostAsync("/workflows", "[1,2]")).Expect(400);
        Assert.Contains("workflow_type", (await C.PostAsync("/workflows", O(("workflow_id", "x")))).Expect(400).Error);
        (await C.PostAsync("/workflows", O(("workflow_type", 5), ("workflow_id", "x")))).Expect(400);
        (await C.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", "x"), ("search_attributes", "env=prod")))).Expect(400);
        (await C.PostAsync("/workflows", "")).Expect(400); // empty body = no fields = missing required fields
        (await C.PostAsync("/tasks/abc/complete", "{}")).Expect(400);
        (await C.GetAsync("/activities/abc")).Expect(400);
        (await C.GetAsync("/workflows?status=RUNING")).Expect(400);
        (await C.GetAsync("/workflows?search_attrs=%7Bbad")).Expect(400);
        (await C.GetAsync("/workflows?search_attrs=%5B1%5D")).Expect(400);
        (await C.GetAsync("/workflows?limit=0")).Expect(400);
        (await C.GetAsync("/workflows?limit=100000")).Expect(400);
        (await C.PostAsync("/workflow-tasks/poll", O(("queue", "q")))).Expect(400);
        (await C.PostAsync("/workflow-tasks/poll", O(("queue", "q"), ("worker_id", "w"), ("wait_secs", -1)))).Expect(400);
        (await C.PostAsync("/namespaces", "{}")).Expect(400);
        // NUL cannot be stored in a PostgreSQL text column: refused up front, never a database error.
        (await C.PostAsync("/workflows", "{\"workflow_type\":\"T\",\"workflow_id\":\"a\\u0000b\"}")).Expect(400);
        (await C.GetAsync("/workflows/a%00b")).Expect(400);
        (await C.GetAsync("/workflows?search_attrs=" + Uri.EscapeDataString("{\"k\\u0000\":1}"))).Expect(400);
        (await C.GetAsync("/workflows?search_attrs=" + Uri.EscapeDataString("{\"k\":\"\\ud800\"}"))).Expect(400);
        (await C.PostAsync("/workflows", "{\"workflow_type\":\"T\",\"workflow_id\":\"sa\",\"search_attributes\":{\"k\":[\"\\u0000\"]}}")).Expect(400);
        (await C.PostAsync("/workflows", "{\"workflow_type\":\"T\",\"workflow_id\":\"deep\",\"input\":" + new string('[', 200) + new string(']', 200) + "}")).Expect(400);
        (await C.PostAsync("/workflows", "{\"workflow_type\":\"T\",\"workflow_id\":\"x\",\"idempotent\":1e400}")).Expect(400);
        var put = await C.SendAsync(HttpMethod.Put, "/workflows", "{}");
        Assert.Contains(put.Code, new[] { 404, 405 });
        Assert.NotNull(put.Error);
    }

    [SkippableFact]
    public async Task Lenient_bodies_empty_null_and_lua_empty_table()
    {
        foreach (var body in new[] { "", "null", "[]", "{}" })
        {
            var id = await StartAsync("Lenient");
            (await C.PostAsync($"/workflows/{id}/signal/go", body)).Expect(200);
            (await C.PostAsync($"/workflows/{id}/terminate", body)).Expect(200);
            var wf = await DescribeAsync(id);
            Assert.Equal("FAILED", wf["status"].Str());
            Assert.Equal("terminated", wf["error"].Str());
        }
        // A signal without payload is recorded with payload null.
        var sid = await StartAsync("Lenient");
        (await C.PostAsync($"/workflows/{sid}/signal/go", "[]")).Expect(200);
        var payload = (await EventsAsync(sid))[1]["payload"].Decode()!;
        Assert.Null(payload["payload"]);
    }

    [SkippableFact]
    public async Task Oversized_body_is_413()
    {
        // Raw socket: the engine answers as soon as the declared length exceeds the limit, without
        // reading 9 MiB (an HttpClient would see the connection closed while still uploading).
        var uri = new Uri(C.BaseUrl);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        var head = $"POST /api/v1/workflows HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: application/json\r\nContent-Length: {9 * 1024 * 1024}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head + "{\"workflow_type\":\"T\",\"workflow_id\":\"big\",\"input\":\"xxxx"));
        using var reader = new StreamReader(stream);
        var response = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 413", response);
        Assert.Contains("{\"error\":\"request body too large\"}", response);
        (await C.GetAsync("/workflows/big")).Expect(404);
    }

    [SkippableFact]
    public async Task Duplicate_start_is_409_or_idempotent_when_asked()
    {
        var id = await StartAsync("Dup", O(("n", 1)));
        Assert.Contains("already exists", (await C.PostAsync("/workflows", O(("workflow_type", "Dup"), ("workflow_id", id), ("input", O(("n", 1)))))).Expect(409).Error);
        var first = await DescribeAsync(id);
        var again = (await C.PostAsync("/workflows", O(("workflow_type", "Dup"), ("workflow_id", id), ("input", O(("n", 1))), ("idempotent", true)))).Expect(200).Obj;
        Assert.Equal(first["run_id"].Str(), again["run_id"].Str());
        (await C.PostAsync("/workflows", O(("workflow_type", "Dup"), ("workflow_id", id), ("input", O(("n", 2))), ("idempotent", true)))).Expect(409);
        (await C.PostAsync("/workflows", O(("workflow_type", "Other"), ("workflow_id", id), ("input", O(("n", 1))), ("idempotent", true)))).Expect(409);
        Assert.Single(await EventsAsync(id));
    }

    [SkippableFact]
    public async Task Search_attributes_filter()
    {
        var ns = await NewNamespaceAsync();
        await StartAsync("Tagged", ns: ns, searchAttributes: O(("env", "prod"), ("tier", 1)));
        await StartAsync("Tagged", ns: ns, searchAttributes: O(("env", "prod"), ("tier", 2)));
        await StartAsync("Tagged", ns: ns, searchAttributes: O(("env", "staging"), ("tier", 1), ("flag", true)));
        await StartAsync("Other", ns: ns);
        async Task<int> Count(string query) => (await C.GetAsync($"/workflows?namespace={ns}&{query}")).Expect(200).Arr.Count;
        Assert.Equal(3, await Count("type=Tagged"));
        Assert.Equal(2, await Count("search_attrs=" + Uri.EscapeDataString("{\"env\":\"prod\"}")));
        Assert.Equal(1, await Count("search_attrs=" + Uri.EscapeDataString("{\"env\":\"staging\"}")));
        Assert.Equal(2, await Count("search_attrs=" + Uri.EscapeDataString("{\"tier\":1}")));
        Assert.Equal(2, await Count("search_attrs=" + Uri.EscapeDataString("{\"tier\":1.0}")));
        Assert.Equal(1, await Count("search_attrs=" + Uri.EscapeDataString("{\"tier\":1,\"env\":\"prod\"}")));
        Assert.Equal(1, await Count("search_attrs=" + Uri.EscapeDataString("{\"flag\":true}")));
        Assert.Equal(0, await Count("search_attrs=" + Uri.EscapeDataString("{\"env\":\"dev\"}")));
        Assert.Equal(4, await Count("limit=10"));
        Assert.Equal(2, await Count("limit=2"));
        Assert.Equal(1, await Count("limit=2&offset=3"));
        Assert.Equal(4, await Count("status=PENDING"));
        Assert.Equal(0, await Count("status=RUNNING"));
        var list = (await C.GetAsync($"/workflows?namespace={ns}&type=Tagged")).Arr;
        Assert.Equal("{\"env\":\"staging\",\"tier\":1,\"flag\":true}", list[0]!["search_attributes"].Str()); // newest first
    }

    [SkippableFact]
    public async Task Schedule_crud_validation_and_next_run()
    {
        var ns = await NewNamespaceAsync();
        var created = (await C.PostAsync("/schedules", O(("name", "hourly-ingest"), ("namespace", ns), ("workflow_type", "Ingest"),
            ("cron_expr", "0 * * * *"), ("input", O(("x", 1)))))).Expect(201).Obj;
        Assert.False(created["paused"]!.GetValue<bool>());
        Assert.Equal("UTC", created["timezone"].Str());
        Assert.Equal("skip", created["overlap_policy"].Str());
        var next = created["next_run_at"].Num();
        Assert.InRange(next - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0, 3601);
        Assert.Equal(0, next % 3600);

        Assert.Single((await C.GetAsync($"/schedules?namespace={ns}")).Expect(200).Arr);
        (await C.GetAsync($"/schedules/hourly-ingest?namespace={ns}")).Expect(200);
        (await C.PostAsync("/schedules", O(("name", "hourly-ingest"), ("namespace", ns), ("workflow_type", "I"), ("cron_expr", "0 * * * *")))).Expect(409);

        var patched = (await C.PatchAsync($"/schedules/hourly-ingest?namespace={ns}", O(("cron_expr", "0 0 3 * * *"),
            ("timezone", "Europe/Berlin"), ("input", O(("lookback_hours", 24)))))).Expect(200).Obj;
        Assert.Equal("0 0 3 * * *", patched["cron_expr"].Str());
        Assert.Equal("Europe/Berlin", patched["timezone"].Str());
        Assert.Equal(24, patched["input"].Decode()!["lookback_hours"].Long());
        Assert.NotEqual(next, patched["next_run_at"].Num()); // recomputed for the new cron
        var berlin = DateTimeOffset.FromUnixTimeSeconds((long)patched["next_run_at"].Num());
        Assert.Contains(berlin.UtcDateTime.Hour, new[] { 1, 2 }); // 03:00 Berlin = 01:00 or 02:00 UTC

        var queuePatch = (await C.PatchAsync($"/schedules/hourly-ingest?namespace={ns}", O(("task_queue", "reports")))).Expect(200).Obj;
        Assert.Equal("reports", queuePatch["task_queue"].Str());
        Assert.Equal("0 0 3 * * *", queuePatch["cron_expr"].Str());
        Assert.Equal("Europe/Berlin", queuePatch["timezone"].Str());

        Assert.True((await C.PostAsync($"/schedules/hourly-ingest/pause?namespace={ns}")).Expect(200).Obj["paused"]!.GetValue<bool>());
        Assert.False((await C.PostAsync($"/schedules/hourly-ingest/resume?namespace={ns}")).Expect(200).Obj["paused"]!.GetValue<bool>());

        (await C.PatchAsync($"/schedules/nope?namespace={ns}", O(("task_queue", "x")))).Expect(404);
        Assert.Contains("timezone", (await C.PatchAsync($"/schedules/hourly-ingest?namespace={ns}", O(("timezone", "Not/AZone")))).Expect(400).Error);
        (await C.PatchAsync($"/schedules/hourly-ingest?namespace={ns}", O(("cron_expr", "every hour")))).Expect(400);
        (await C.PatchAsync($"/schedules/hourly-ingest?namespace={ns}", O(("overlap_policy", "sometimes")))).Expect(400);
        (await C.PostAsync("/schedules", O(("name", "bad"), ("namespace", ns), ("workflow_type", "I"), ("cron_expr", "61 * * * *")))).Expect(400);
        (await C.PostAsync("/schedules", O(("name", "bad"), ("namespace", ns), ("workflow_type", "I"), ("cron_expr", "* * * * *"), ("timezone", "Mars/Base")))).Expect(400);

        (await C.DeleteAsync($"/schedules/hourly-ingest?namespace={ns}")).Expect(200);
        (await C.GetAsync($"/schedules/hourly-ingest?namespace={ns}")).Expect(404);
        (await C.DeleteAsync($"/schedules/hourly-ingest?namespace={ns}")).Expect(404);
    }

    [SkippableFact]
    public async Task Namespaces_and_stats()
    {
        var ns = await NewNamespaceAsync();
        (await C.PostAsync("/namespaces", O(("name", ns)))).Expect(409);
        Assert.Contains((await C.GetAsync("/namespaces")).Expect(200).Arr, n => n!["name"].Str() == ns);
        var empty = (await C.GetAsync($"/namespaces/{ns}")).Expect(200).Obj;
        Assert.Equal(0, empty["total_workflows"].Long());

        var running = await StartAsync("S", queue: Uid("q"), ns: ns);
        (await C.PostAsync($"/workflows/{running}/activities", O(("name", "a"), ("seq", 1), ("task_queue", "statq")))).Expect(201);
        await StartAsync("S", ns: ns);
        var stats = (await C.GetAsync($"/namespaces/{ns}")).Expect(200).Obj;
        Assert.Equal(2, stats["total_workflows"].Long());
        Assert.Equal(1, stats["running"].Long());
        Assert.Equal(1, stats["pending"].Long());
        Assert.Equal(0, stats["completed"].Long());
        Assert.True((await C.GetAsync("/namespaces/main")).Expect(200).Obj["total_workflows"].Long() >= 0);

        Assert.Contains("still has", (await C.DeleteAsync($"/namespaces/{ns}")).Expect(409).Error);
        (await C.DeleteAsync("/namespaces/main")).Expect(409);
        (await C.DeleteAsync("/namespaces/nonexistent")).Expect(404);
        var spare = await NewNamespaceAsync();
        (await C.DeleteAsync($"/namespaces/{spare}")).Expect(200);
        (await C.GetAsync($"/namespaces/{spare}")).Expect(404);
    }

    [SkippableFact]
    public async Task Queue_stats_include_workflow_task_backlog()
    {
        var ns = await NewNamespaceAsync();
        await StartAsync("Q", queue: "wfq", ns: ns);
        var wf = await StartAsync("Q", queue: "wfq", ns: ns);
        (await C.PostAsync($"/workflows/{wf}/activities", O(("name", "a"), ("seq", 1), ("task_queue", "actq")))).Expect(201);
        (await C.PostAsync("/workers/register", O(("identity", "i"), ("queue", "onlyworkers"), ("namespace", ns)))).Expect(200);
        var stats = (await C.GetAsync($"/queues?namespace={ns}")).Expect(200).Arr.Select(q => q!.AsObject()).ToList();
        Assert.Equal(["actq", "onlyworkers", "wfq"], stats.Select(q => q["queue"].Str()));
        Assert.Equal(1, stats[0]["pending_activities"].Long());
        Assert.Equal(1, stats[1]["workers"].Long());
        Assert.Equal(2, stats[2]["pending_workflow_tasks"].Long());
    }

    [SkippableFact]
    public async Task Long_poll_answers_when_work_appears()
    {
        var queue = Uid("lp");
        var sw = Stopwatch.StartNew();
        Assert.Equal("null", (await PollWorkflowTaskAsync(queue, "w")).Body);
        Assert.True(sw.ElapsedMilliseconds < 1000, "a poll without wait_secs answers at once");

        sw.Restart();
        var poll = PollWorkflowTaskAsync(queue, "w", wait: 10);
        await Task.Delay(300);
        Assert.False(poll.IsCompleted);
        var id = await StartAsync("LP", queue: queue);
        var started = sw.ElapsedMilliseconds;
        var task = (await poll).Expect(200).Obj;
        Assert.Equal(id, task["workflow_id"].Str());
        Assert.True(sw.ElapsedMilliseconds - started < 1000, $"answered {sw.ElapsedMilliseconds - started} ms after the start");

        sw.Restart();
        var empty = await PollActivityAsync(queue, "w", wait: 0.5);
        Assert.Equal("{\"task\":null}", empty.Body);
        Assert.InRange(sw.ElapsedMilliseconds, 400, 3000);
    }
}

public sealed class SqliteRestBasicsTests(SqliteEngineFixture fx) : RestBasicsTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresRestBasicsTests(PostgresEngineFixture fx) : RestBasicsTests(fx), IClassFixture<PostgresEngineFixture>;
