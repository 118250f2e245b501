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
        await Assertions.Expect(page.Locator("#history")).ToContainTextAsync("WorkflowStarted");

        // A signal from the UI takes effect and shows up live.
        answers.Enqueue("go");
        answers.Enqueue("{\"ok\":true}");
        await page.ClickAsync("#act-signal");
        await Assertions.Expect(page.Locator("#history")).ToContainTextAsync("SignalReceived", new() { Timeout = 5000 });
        var events = (await c.GetAsync("/workflows/bw-1/events")).Expect(200).Arr;
        Assert.Contains(events, e => e!["event_type"].Str() == "SignalReceived" && e["payload"].Decode()!["signal"].Str() == "go");
        // A signal sent elsewhere appears without a reload.
        (await c.PostAsync("/workflows/bw-1/signal/again")).Expect(200);
        await Assertions.Expect(page.Locator("#history tr.event")).ToHaveCountAsync(3, new() { Timeout = 5000 });

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

    /// <summary>Opens the list, checks that the row of <paramref name="id"/> (or the part <paramref name="inRow"/> of it)
    /// shows <paramref name="mark"/>, opens the workflow and answers the page and its note <paramref name="noteSelector"/>.</summary>
    async Task<(IPage Page, ILocator Note)> OpenMarkedWorkflowAsync(string baseUrl, string id, string inRow, string mark, string noteSelector)
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(baseUrl + "/workflow/");
        await Assertions.Expect(page.Locator($"#wf-table tr[data-id='{id}']{inRow}")).ToContainTextAsync(mark);
        await page.ClickAsync($"a[href='#/workflow/{id}']");
        return (page, page.Locator(noteSelector));
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

        var (_, note) = await OpenMarkedWorkflowAsync(engine.BaseUrl, "uh-1", "", "unhandled type", "#unhandled");
        await Assertions.Expect(note).ToContainTextAsync("workflow type 'NobodyHasIt'");
        await Assertions.Expect(note).ToContainTextAsync("queue 'uq'");
        await Assertions.Expect(note).ToContainTextAsync("w-lacking");
    }

    // ── The timeline section (timeline.js, GET /workflows/{id}/timeline) ──

    static JsonObject Cmd(string type, params (string, JsonNode?)[] fields)
    {
        var c = O(("type", type));
        foreach (var (k, v) in fields) c[k] = v;
        return c;
    }

    /// <summary>Where a bar sits on its track, as a fraction of the track: its left edge, or its centre for a point.</summary>
    static async Task<(double From, double To)> PlacementAsync(ILocator bar)
    {
        var b = (await bar.BoundingBoxAsync())!;
        var track = (await bar.Locator("xpath=..").BoundingBoxAsync())!;
        var point = (await bar.GetAttributeAsync("class"))!.Contains("point");
        var (from, to) = point ? (b.X + b.Width / 2, b.X + b.Width / 2) : (b.X, b.X + b.Width);
        return ((from - track.X) / track.Width, (to - track.X) / track.Width);
    }

    /// <summary>
    /// A run with every kind of span, on a fake clock so positions are exact: t0 an activity (attempt 1 fails with
    /// "boom 1" at t0+20, attempt 2 runs from t0+30), t0+40 a signal, a second activity, a 60 s timer, a child and a
    /// wait for a signal; the page opens at t0+50. The axis then runs to the timer's fire time, t0+100.
    /// </summary>
    [Fact]
    public async Task The_timeline_draws_each_kind_to_scale_with_details_pending_marks_and_live_updates()
    {
        await using var clock = await TestClock.StartAsync(Backend.Sqlite);
        var c = clock.Client;
        (await c.PostAsync("/workflows", O(("workflow_type", "Timed"), ("workflow_id", "tl-1"), ("task_queue", "tq")))).Expect(201);
        var t0 = (await c.GetAsync("/workflows/tl-1")).Expect(200).Obj["created_at"]!.GetValue<double>();
        (await c.PostAsync("/workflow-tasks/poll", O(("queue", "tq"), ("worker_id", "w")))).Expect(200);
        var submit = (params JsonObject[] cmds) => c.PostAsync("/workflow-tasks/tl-1/commands", O(("worker_id", "w"), ("commands", new JsonArray(cmds))));
        (await submit(Cmd("ScheduleActivity", ("seq", 1), ("name", "fetch"), ("task_queue", "aq"), ("max_attempts", 3), ("initial_interval_secs", 5)))).Expect(200);
        clock.Jump(10);
        var act = (await c.PostAsync("/tasks/poll", O(("queue", "aq"), ("worker_id", "aw-1")))).Expect(200).Obj["id"].Long();
        clock.Jump(10);
        (await c.PostAsync($"/tasks/{act}/fail", O(("error", "boom 1")))).Expect(200);
        clock.Jump(10);
        (await c.PostAsync("/tasks/poll", O(("queue", "aq"), ("worker_id", "aw-2")))).Expect(200);
        clock.Jump(10);
        (await c.PostAsync("/workflows/tl-1/signal/nudge")).Expect(200);
        (await c.PostAsync("/workflow-tasks/poll", O(("queue", "tq"), ("worker_id", "w")))).Expect(200);
        (await submit(Cmd("ScheduleActivity", ("seq", 2), ("name", "notify"), ("task_queue", "nq")), Cmd("ScheduleTimer", ("seq", 1), ("duration_secs", 60)),
            Cmd("StartChildWorkflow", ("workflow_type", "Kid"), ("workflow_id", "tl-kid"), ("task_queue", "kq")),
            Cmd("WaitForSignal", ("name", "approve")))).Expect(200);
        clock.Jump(10);

        var page = await _browser.NewPageAsync();
        await page.GotoAsync(clock.Engine.BaseUrl + "/workflow/#/workflow/tl-1");
        var bars = page.Locator("#run-timeline .tl-bar");
        await Assertions.Expect(bars).ToHaveCountAsync(7); // the run itself and six items

        // One row per item, oldest first (same moment: history order), each kind with its own bar.
        var kinds = await page.Locator("#run-timeline li.tl-row").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.kind)");
        Assert.Equal(["run", "activity", "signal", "activity", "timer", "child", "signal_wait"], kinds);

        // Positions and lengths proportional to time on [t0, t0+100].
        var expected = new (string Key, double From, double To)[]
        {
            ("run", 0, 0.5), ("activity-1", 0, 0.5), ("activity-2", 0.4, 0.5), ("timer-1", 0.4, 0.5), ("child-tl-kid", 0.4, 0.5),
        };
        foreach (var (key, from, to) in expected)
        {
            var (x0, x1) = await PlacementAsync(page.Locator($"#run-timeline .tl-bar[data-key='{key}']"));
            Assert.True(Math.Abs(x0 - from) < 0.015 && Math.Abs(x1 - to) < 0.015, $"{key}: at {x0:0.000}..{x1:0.000}, expected {from}..{to}");
        }
        var (signalAt, _) = await PlacementAsync(page.Locator("#run-timeline .tl-bar[data-kind='signal']"));
        Assert.True(Math.Abs(signalAt - 0.4) < 0.015, $"signal at {signalAt:0.000}");

        // Pending spans are marked (stripes, a "pending" tag on the row) and say what they wait for; the received signal is not pending.
        await Assertions.Expect(page.Locator("#run-timeline .tl-bar.pending")).ToHaveCountAsync(6);
        await Assertions.Expect(page.Locator("#run-timeline li.tl-row .tl-wait")).ToHaveCountAsync(6);
        await Assertions.Expect(page.Locator("#run-timeline .tl-bar[data-kind='signal']")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("pending"));
        var fetch = page.Locator("#run-timeline .tl-bar[data-key='activity-1']");
        var tip = (await fetch.GetAttributeAsync("title"))!;
        Assert.Contains("attempts: 2 of 3", tip);
        Assert.Contains("last error: boom 1", tip);
        Assert.Contains("running on worker aw-2", tip);
        Assert.Contains("waiting for a worker on queue 'nq'", (await page.Locator("#run-timeline .tl-bar[data-key='activity-2']").GetAttributeAsync("title"))!);
        Assert.Contains("timer fires at", (await page.Locator("#run-timeline .tl-bar[data-key='timer-1']").GetAttributeAsync("title"))!);
        Assert.Contains("child workflow still PENDING", (await page.Locator("#run-timeline .tl-bar[data-key='child-tl-kid']").GetAttributeAsync("title"))!);
        Assert.Contains("waiting for signal 'approve'", (await page.Locator("#run-timeline .tl-bar[data-kind='signal_wait']").GetAttributeAsync("title"))!);
        // Every bar has a text alternative.
        foreach (var label in await bars.EvaluateAllAsync<string[]>("bs => bs.map(b => b.getAttribute('aria-label') || '')"))
            Assert.False(string.IsNullOrWhiteSpace(label));
        Assert.Contains("pending", (await fetch.GetAttributeAsync("aria-label"))!);

        // Keyboard: the bars are in the tab order; Enter shows the details.
        await fetch.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        var detail = page.Locator("#tl-detail");
        await Assertions.Expect(detail).ToContainTextAsync("boom 1");
        await Assertions.Expect(detail).ToContainTextAsync("2 of 3");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("signal", await page.EvaluateAsync<string>("document.activeElement.dataset.kind"));
        await page.Keyboard.PressAsync("Shift+Tab");

        // Live: a claim records no event, yet the page shows the running attempt within its refresh.
        var notify = (await c.PostAsync("/tasks/poll", O(("queue", "nq"), ("worker_id", "aw-3")))).Expect(200).Obj["id"].Long();
        await Assertions.Expect(page.Locator("#run-timeline .tl-bar[data-key='activity-2']")).ToHaveAttributeAsync("title",
            new System.Text.RegularExpressions.Regex("running on worker aw-3"), new() { Timeout = 5000 });
        // Live: a completion (an event) closes the span; the open details follow it, and focus stays on the bar.
        clock.Jump(5);
        (await c.PostAsync($"/tasks/{act}/complete", O(("result", 1)))).Expect(200);
        await Assertions.Expect(fetch).ToHaveAttributeAsync("data-status", "COMPLETED", new() { Timeout = 5000 });
        await Assertions.Expect(fetch).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex("pending"));
        await Assertions.Expect(detail).ToContainTextAsync("COMPLETED");
        await Assertions.Expect(detail).ToContainTextAsync("last error");
        await Assertions.Expect(detail).ToContainTextAsync("on worker aw-2, took 25 s"); // the attempt that completed it
        await Assertions.Expect(fetch).ToBeFocusedAsync();
        // Once the user clicked elsewhere (nothing focusable: focus goes to the page), a redraw leaves focus alone.
        await page.Locator("h3").First.ClickAsync();
        Assert.Equal("BODY", await page.EvaluateAsync<string>("document.activeElement.tagName"));
        (await c.PostAsync($"/tasks/{notify}/complete", O(("result", 1)))).Expect(200);
        (await c.PostAsync("/workflows/tl-1/signal/approve")).Expect(200);
        await Assertions.Expect(page.Locator("#run-timeline .tl-bar[data-kind='signal_wait']")).ToHaveAttributeAsync("data-status", "RECEIVED", new() { Timeout = 5000 });
        await Assertions.Expect(page.Locator("#run-timeline .tl-bar[data-kind='signal']")).ToHaveCountAsync(2);
        await page.WaitForTimeoutAsync(300);
        Assert.False(await page.EvaluateAsync<bool>("document.activeElement.classList.contains('tl-bar')"));
    }

    [Fact]
    public async Task A_workflow_whose_type_no_live_worker_serves_says_so_until_one_registers()
    {
        await using var engine = await EngineHost.StartAsync(EngineFixture.Options(TestDatabases.NewSqliteFile()));
        var c = new EngineClient(engine.BaseUrl);
        (await c.PostAsync("/workers/register", O(("identity", "only-a"), ("queue", "tq"), ("workflows", A("FlowA")), ("activities", A())))).Expect(200);
        (await c.PostAsync("/workflows", O(("workflow_type", "FlowB"), ("workflow_id", "nw-1"), ("task_queue", "tq")))).Expect(201);

        var (page, note) = await OpenMarkedWorkflowAsync(engine.BaseUrl, "nw-1", " .no-worker", "no worker", "#no-worker");
        await Assertions.Expect(note).ToContainTextAsync("no live worker serves workflow type 'FlowB' on queue 'tq'");

        // A worker for FlowB registers: the page (reloaded) no longer shows the note.
        (await c.PostAsync("/workers/register", O(("identity", "only-b"), ("queue", "tq"), ("workflows", A("FlowB"))))).Expect(200);
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("h2")).ToContainTextAsync("nw-1");
        await Assertions.Expect(page.Locator("#no-worker")).ToHaveCountAsync(0);
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
