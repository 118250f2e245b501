using System.Net.Http.Headers;
using Assay.Engine.Hosting;

namespace Assay.Engine.Tests.Reliability;

/// <summary>Issue 12 item 6: only the claimant of a task (the holder of its lease token) can report on it.</summary>
public abstract class LeaseTokenTests(EngineFixture fx) : TestBase(fx)
{
    Task<Reply> BoundPollAsync(string path, string queue, string worker) =>
        C.PostAsync(path, O(("queue", queue), ("worker_id", worker), ("require_lease_token", true)));

    async Task<(string Wf, string Queue, long Id)> ScheduleAsync()
    {
        var queue = Uid("aq");
        var wf = await StartAsync("Act", queue: Uid("wq"));
        var act = (await C.PostAsync($"/workflows/{wf}/activities", O(("name", "a"), ("task_queue", queue), ("seq", 1)))).Expect(201).Obj;
        return (wf, queue, act["id"].Long());
    }

    [SkippableFact]
    public async Task A_bound_activity_claim_refuses_reports_without_its_lease_token()
    {
        var (wf, queue, id) = await ScheduleAsync();
        var task = (await BoundPollAsync("/tasks/poll", queue, "owner")).Expect(200).Obj;
        var token = task["lease_token"].Str();
        Assert.Matches("^[0-9a-f]{32}$", token);
        Assert.Null((await C.GetAsync($"/activities/{id}")).Expect(200).Obj["lease_token"]); // answered to the claimant only

        // Another client, with nothing, with the owner's worker id and attempt, or with a made-up token.
        foreach (var body in new[] { O(), O(("worker_id", "owner"), ("attempt", 1)), O(("worker_id", "owner"), ("lease_token", new string('0', 32))) })
        {
            (await C.PostAsync($"/tasks/{id}/complete", body.DeepClone())).Expect(409);
            var fail = body.DeepClone().AsObject();
            fail["error"] = "x";
            (await C.PostAsync($"/tasks/{id}/fail", fail)).Expect(409);
            (await C.PostAsync($"/tasks/{id}/heartbeat", body.DeepClone())).Expect(409);
        }
        Assert.Contains("lease_token", (await C.PostAsync($"/tasks/{id}/complete", O(("worker_id", "owner")))).Error);
        Assert.Equal("RUNNING", (await C.GetAsync($"/activities/{id}")).Obj["status"].Str());

        (await C.PostAsync($"/tasks/{id}/heartbeat", O(("lease_token", token)))).Expect(200);
        (await C.PostAsync($"/tasks/{id}/complete", O(("result", 7), ("worker_id", "owner"), ("attempt", 1), ("lease_token", token)))).Expect(200);
        Assert.Contains("ActivityCompleted", await EventTypesAsync(wf));
    }

    [SkippableFact]
    public async Task A_retry_gets_a_new_token_and_the_old_one_is_refused()
    {
        await using var clock = await UseFakeClockAsync();
        var (_, queue, id) = await ScheduleAsync();
        var first = (await BoundPollAsync("/tasks/poll", queue, "w")).Expect(200).Obj["lease_token"].Str();
        (await C.PostAsync($"/tasks/{id}/fail", O(("error", "boom"), ("lease_token", first)))).Expect(200);
        Reply? retry = null;
        clock.Jump(0.9); // the retry is due after the default 1 s backoff
        await clock.AdvanceUntilAsync(async () => !(retry = await BoundPollAsync("/tasks/poll", queue, "w")).Body.Contains("\"task\":null"), 5,
            "the retry");
        var second = retry!.Expect(200).Obj["lease_token"].Str();
        Assert.NotEqual(first, second);
        (await C.PostAsync($"/tasks/{id}/complete", O(("lease_token", first)))).Expect(409);
        (await C.PostAsync($"/tasks/{id}/complete", O(("lease_token", second)))).Expect(200);
    }

    [SkippableFact]
    public async Task A_bound_workflow_task_refuses_heartbeats_and_commands_without_its_token()
    {
        var queue = Uid("q");
        var id = await StartAsync("T", queue: queue);
        var task = (await BoundPollAsync("/workflow-tasks/poll", queue, "owner")).Expect(200).Obj;
        var token = task["lease_token"].Str();

        Assert.Contains("lease_token", (await C.PostAsync($"/workflow-tasks/{id}/heartbeat", O(("worker_id", "owner")))).Expect(409).Error);
        (await C.PostAsync($"/workflow-tasks/{id}/heartbeat", O(("worker_id", "owner"), ("lease_token", "nope")))).Expect(409);
        (await SubmitAsync(id, "owner", O(("type", "CompleteWorkflow")))).Expect(409);
        Assert.Equal("RUNNING", (await DescribeAsync(id))["status"].Str());

        (await C.PostAsync($"/workflow-tasks/{id}/heartbeat", O(("worker_id", "owner"), ("lease_token", token)))).Expect(200);
        // Eager dispatch hands activities over under the same binding.
        var eager = (await C.PostAsync($"/workflow-tasks/{id}/commands", O(("worker_id", "owner"), ("lease_token", token), ("eager_activities", 1),
            ("commands", A(ScheduleActivity(1, "a", queue)))))).Expect(200).Obj["activity_tasks"]!.AsArray().Single()!.AsObject();
        var actId = eager["id"].Long();
        (await C.PostAsync($"/tasks/{actId}/complete", O(("worker_id", "owner")))).Expect(409);
        (await C.PostAsync($"/tasks/{actId}/complete", O(("worker_id", "owner"), ("lease_token", eager["lease_token"].Str())))).Expect(200);
    }

    [SkippableFact]
    public async Task Claims_by_polls_that_did_not_ask_keep_the_seed_protocol_but_check_a_token_that_is_sent()
    {
        var (_, queue, id) = await ScheduleAsync();
        var task = (await PollActivityAsync(queue, "seed")).Expect(200).Obj;
        Assert.NotNull(task["lease_token"]);
        (await C.PostAsync($"/tasks/{id}/heartbeat", O(("lease_token", "wrong")))).Expect(409);
        (await C.PostAsync($"/tasks/{id}/complete", O(("result", 1)))).Expect(200); // what the seed client sends
    }
}

public sealed class SqliteLeaseTokenTests(SqliteEngineFixture fx) : LeaseTokenTests(fx), IClassFixture<SqliteEngineFixture>;
public sealed class PostgresLeaseTokenTests(PostgresEngineFixture fx) : LeaseTokenTests(fx), IClassFixture<PostgresEngineFixture>;

/// <summary>Engine-wide settings of item 6: strict lease tokens, the last API key, the dashboard's headers.</summary>
public sealed class EngineHardeningTests
{
    [Fact]
    public async Task With_require_lease_token_every_claim_is_bound()
    {
        var o = EngineFixture.Options(TestDatabases.NewSqliteFile());
        o.RequireLeaseToken = true;
        await using var engine = await EngineHost.StartAsync(o);
        var c = new EngineClient(engine.BaseUrl);
        (await c.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", "s1"), ("task_queue", "q")))).Expect(201);
        var task = (await c.PostAsync("/workflow-tasks/poll", O(("queue", "q"), ("worker_id", "w")))).Expect(200).Obj; // no flag
        (await c.PostAsync("/workflow-tasks/s1/commands", O(("worker_id", "w"), ("commands", A(O(("type", "CompleteWorkflow"))))))).Expect(409);
        (await c.PostAsync("/workflow-tasks/s1/commands", O(("worker_id", "w"), ("lease_token", task["lease_token"].Str()),
            ("commands", A(O(("type", "CompleteWorkflow"))))))).Expect(200);
    }

    [Fact]
    public async Task The_last_active_API_key_cannot_be_revoked_over_the_API()
    {
        var db = TestDatabases.NewSqliteFile();
        var o = EngineFixture.Options(db);
        o.AuthApiKey = true;
        await using var engine = await EngineHost.StartAsync(o);
        var (first, rec) = await EngineAdmin.GenerateApiKeyAsync(EngineFixture.Options(db), "bootstrap");
        using var http = new HttpClient();
        async Task<(int, string)> Send(HttpMethod m, string path, string key)
        {
            using var req = new HttpRequestMessage(m, engine.BaseUrl + "/api/v1" + path);
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (m == HttpMethod.Post) req.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            using var res = await http.SendAsync(req);
            return ((int)res.StatusCode, await res.Content.ReadAsStringAsync());
        }

        var (code, body) = await Send(HttpMethod.Delete, "/api-keys/" + rec.Prefix, first);
        Assert.Equal(409, code);
        Assert.Contains("last active API key", JsonNode.Parse(body)!["error"].Str());
        Assert.Equal(200, (await Send(HttpMethod.Get, "/workflows", first)).Item1);

        (code, body) = await Send(HttpMethod.Post, "/api-keys", first);
        Assert.Equal(201, code);
        var second = JsonNode.Parse(body)!["key"].Str();
        Assert.Equal(200, (await Send(HttpMethod.Delete, "/api-keys/" + rec.Prefix, second)).Item1);
        Assert.Equal(409, (await Send(HttpMethod.Delete, "/api-keys/" + second[..14], second)).Item1);
        Assert.Equal(200, (await Send(HttpMethod.Get, "/workflows", second)).Item1);
    }

    [Fact]
    public async Task The_dashboard_sends_a_content_security_policy_and_refuses_framing()
    {
        await using var engine = await EngineHost.StartAsync(EngineFixture.Options(TestDatabases.NewSqliteFile()));
        using var http = new HttpClient();
        foreach (var path in new[] { "/workflow/", "/workflow/app.js", "/workflow/workflows/x" })
        {
            using var res = await http.GetAsync(engine.BaseUrl + path);
            Assert.Equal(200, (int)res.StatusCode);
            Assert.Equal("DENY", res.Headers.GetValues("X-Frame-Options").Single());
            var csp = res.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.Contains("script-src 'self'", csp);
            Assert.DoesNotContain("unsafe-inline", csp);
        }
    }
}
