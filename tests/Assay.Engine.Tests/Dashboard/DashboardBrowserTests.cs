using Assay.Engine.Hosting;
using Microsoft.Playwright;

namespace Assay.Engine.Tests.Dashboard;

/// <summary>The dashboard in a real browser: Playwright driving Debian's /usr/bin/chromium (apt package `chromium`).</summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    IPlaywright _pw = null!;
    IBrowserContext _browser = null!;
    string _profile = "";

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists("/usr/bin/chromium"), "install Debian's chromium (apt-get install chromium); test.sh does");
        _pw = await Playwright.CreateAsync();
        _profile = Path.Combine(Path.GetTempPath(), "assay-chromium-" + Guid.NewGuid().ToString("N")[..8]);
        _browser = await _pw.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _pw.Dispose();
        try { Directory.Delete(_profile, true); } catch (IOException) { }
    }

    /// <summary>Opens the dashboard; prompts and confirms are answered from the queue (empty: accepted as they are).</summary>
    async Task<(IPage Page, Queue<string> Answers)> OpenAnsweringDialogsAsync(RunningEngine engine)
    {
        var page = await _browser.NewPageAsync();
        var answers = new Queue<string>();
        page.Dialog += async (_, d) => await d.AcceptAsync(answers.Count > 0 ? answers.Dequeue() : null);
        await page.GotoAsync(engine.BaseUrl + "/workflow/");
        return (page, answers);
    }

    static async Task SubmitFormAsync(IPage page, string form, params (string Name, string Value)[] inputs)
    {
        foreach (var (name, value) in inputs) await page.FillAsync($"{form} input[name={name}]", value);
        await page.ClickAsync($"{form} button[type=submit]");
    }

    [Fact]
    public async Task List_detail_signal_cancel_schedules_and_live_updates()
    {
        await using var engine = await EngineHost.StartAsync(EngineFixture.Options(TestDatabases.NewSqliteFile()));
        var c = new EngineClient(engine.BaseUrl);
        (await c.PostAsync("/workflows", O(("workflow_type", "BrowserWf"), ("workflow_id", "bw-1"), ("task_queue", "bq"), ("input", O(("n", 7)))))).Expect(201);

        var (page, answers) = await OpenAnsweringDialogsAsync(engine);
        await Assertions.Expect(page.Locator("#wf-table")).ToContainTextAsync("bw-1");

        // Live: a workflow started elsewhere appears without a reload.
        (await c.PostAsync("/workflows", O(("workflow_type", "BrowserWf"), ("workflow_id", "bw-live"), ("task_queue", "bq")))).Expect(201);
        await Assertions.Expect(page.Locator("#wf-table")).ToContainTextAsync("bw-live", new() { Timeout = 5000 });

        // Detail with its events.
        await page.ClickAsync("a[href='#/workflow/bw-1']");
        await Assertions.Expect(page.Locator("#timeline")).ToContainTextAsync("WorkflowStarted");

        // A signal from the UI takes effect and shows up live.
        answers.Enqueue("go");
        answers.Enqueue("{\"ok\":true}");
        await page.ClickAsync("#act-signal");
        await Assertions.Expect(page.Locator("#timeline")).ToContainTextAsync("SignalReceived", new() { Timeout = 5000 });
        var events = (await c.GetAsync("/workflows/bw-1/events")).Expect(200).Arr;
        Assert.Contains(events, e => e!["event_type"].Str() == "SignalReceived" && e["payload"].Decode()!["signal"].Str() == "go");
        // A signal sent elsewhere appears without a reload.
        (await c.PostAsync("/workflows/bw-1/signal/again")).Expect(200);
        await Assertions.Expect(page.Locator("#timeline tr.event")).ToHaveCountAsync(3, new() { Timeout = 5000 });

        // Cancel from the UI (a workflow no worker started is cancelled at once).
        await page.ClickAsync("#act-cancel");
        await Assertions.Expect(page.Locator("h2")).ToContainTextAsync("CANCELLED", new() { Timeout = 5000 });
        Assert.Equal("CANCELLED", (await c.GetAsync("/workflows/bw-1")).Expect(200).Obj["status"].Str());

        // Schedules: create, then pause.
        await page.ClickAsync("a[data-nav='schedules']");
        await SubmitFormAsync(page, "#schedform", ("name", "ui-sched"), ("type", "Nightly"), ("cron", "0 0 3 * * *"), ("tz", "Europe/Berlin"));
        var row = page.Locator("#sched-table tr[data-name='ui-sched']");
        await Assertions.Expect(row).ToContainTextAsync("active");
        Assert.Equal("Europe/Berlin", (await c.GetAsync("/schedules/ui-sched")).Expect(200).Obj["timezone"].Str());
        await row.Locator("button.pause").ClickAsync();
        await Assertions.Expect(row.Locator(".sched-state")).ToHaveTextAsync("paused");
        Assert.True((await c.GetAsync("/schedules/ui-sched")).Expect(200).Obj["paused"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_workflow_waiting_for_a_worker_with_its_type_says_so()
    {
        await using var engine = await EngineHost.StartAsync(EngineFixture.Options(TestDatabases.NewSqliteFile()));
        var c = new EngineClient(engine.BaseUrl);
        (await c.PostAsync("/workflows", O(("workflow_type", "NobodyHasIt"), ("workflow_id", "uh-1"), ("task_queue", "uq")))).Expect(201);
        var task = (await c.PostAsync("/workflow-tasks/poll", O(("queue", "uq"), ("worker_id", "w-lacking")))).Expect(200).Obj;
        (await c.PostAsync("/workflow-tasks/uh-1/release", O(("worker_id", "w-lacking"), ("lease_token", task["lease_token"]!.DeepClone()),
            ("reason", "unhandled_type"), ("backoff_secs", 30)))).Expect(200);

        var page = await _browser.NewPageAsync();
        await page.GotoAsync(engine.BaseUrl + "/workflow/");
        await Assertions.Expect(page.Locator("#wf-table tr[data-id='uh-1']")).ToContainTextAsync("unhandled type");
        await page.ClickAsync("a[href='#/workflow/uh-1']");
        var note = page.Locator("#unhandled");
        await Assertions.Expect(note).ToContainTextAsync("workflow type 'NobodyHasIt'");
        await Assertions.Expect(note).ToContainTextAsync("queue 'uq'");
        await Assertions.Expect(note).ToContainTextAsync("w-lacking");
    }

    [Fact]
    public async Task Priority_is_shown_and_chosen_at_start_and_a_queue_rate_limit_is_set_and_cleared()
    {
        await using var engine = await EngineHost.StartAsync(EngineFixture.Options(TestDatabases.NewSqliteFile()));
        var c = new EngineClient(engine.BaseUrl);
        var (page, answers) = await OpenAnsweringDialogsAsync(engine);

        // Started from the form with priority 1: the detail shows it.
        await page.ClickAsync("#start-open");
        await page.SelectOptionAsync("#startform select[name=priority]", "1");
        await SubmitFormAsync(page, "#startform", ("type", "Urgent"), ("id", "prio-1"), ("queue", "pq"));
        await Assertions.Expect(page.Locator(".card.grid")).ToContainTextAsync("priority1");
        Assert.Equal(1, (await c.GetAsync("/workflows/prio-1")).Expect(200).Obj["priority"].Long());

        // Queues: the limit is set from the page, shown, and cleared with an empty answer.
        await page.ClickAsync("a[data-nav='queues']");
        var row = page.Locator("#queue-table tr[data-queue='pq']");
        await Assertions.Expect(row.Locator(".rate")).ToHaveTextAsync("—");
        answers.Enqueue("2.5");
        await row.Locator("button.set-rate").ClickAsync();
        await Assertions.Expect(row.Locator(".rate")).ToHaveTextAsync("2.5");
        Assert.Equal(2.5, (await c.GetAsync("/queues/pq")).Expect(200).Obj["max_activities_per_second"].Num());
        answers.Enqueue("lots");
        await row.Locator("button.set-rate").ClickAsync();
        await Assertions.Expect(page.Locator("p.err")).ToContainTextAsync("max_activities_per_second");
        Assert.Equal(2.5, (await c.GetAsync("/queues/pq")).Expect(200).Obj["max_activities_per_second"].Num());
        answers.Enqueue("");
        await row.Locator("button.set-rate").ClickAsync();
        await Assertions.Expect(row.Locator(".rate")).ToHaveTextAsync("—");
        Assert.Null((await c.GetAsync("/queues/pq")).Expect(200).Obj["max_activities_per_second"]);
    }

    [Fact]
    public async Task The_API_key_prompt_works_when_auth_is_on()
    {
        var db = TestDatabases.NewSqliteFile();
        var (key, _) = await EngineAdmin.GenerateApiKeyAsync(EngineFixture.Options(db));
        var o = EngineFixture.Options(db);
        o.AuthApiKey = true;
        await using var engine = await EngineHost.StartAsync(o);
        var c = new EngineClient(engine.BaseUrl);
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(engine.BaseUrl + "/workflow/");
        await Assertions.Expect(page.Locator("#keydlg")).ToBeVisibleAsync();
        await page.FillAsync("#keyinput", key);
        await page.ClickAsync("#keysave");
        await Assertions.Expect(page.Locator("#wf-table")).ToBeVisibleAsync();
        // Live updates work with the key too (the stream authenticates with access_token).
        using var http = new HttpClient();
        var req = new HttpRequestMessage(HttpMethod.Post, engine.BaseUrl + "/api/v1/workflows")
        {
            Content = new StringContent("{\"workflow_type\":\"Keyed\",\"workflow_id\":\"keyed-1\"}", System.Text.Encoding.UTF8, "application/json"),
        };
        req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(201, (int)(await http.SendAsync(req)).StatusCode);
        await Assertions.Expect(page.Locator("#wf-table")).ToContainTextAsync("keyed-1", new() { Timeout = 5000 });
        await Assertions.Expect(page.Locator("#live")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("on"));
    }
}
