using System.Diagnostics;
using Assay.Cli.EngineClient;
using static Assay.Cli.EngineClient.ClientCommand;

namespace Assay.Cli.Commands;

/// <summary>`assay workflow …`: start, inspect, signal and stop workflows on a running engine.</summary>
public static class WorkflowCommands
{
    static readonly string[] ListColumns = ["id", "workflow_type", "status", "task_queue", "priority", "created_at"];
    static readonly string[] Terminal = ["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"];

    public static Command Create(ClientOptions o) => Group(o, "workflow", "Start, inspect, signal and stop workflows",
        Start(o), List(o), Describe(o), Events(o), State(o), Children(o), Signal(o), Cancel(o), Terminate(o),
        ContinueAsNew(o), Wait(o), Replay(o));

    static string Path(string id) => "/workflows/" + EngineApi.Escape(id);

    static Command Start(ClientOptions o)
    {
        var type = new Option<string>("--type") { Description = "Workflow type", Required = true };
        var id = Opt("--id", "Workflow id (default wf-<type>-<epoch ms>)");
        var input = Opt("--input", "Input JSON (literal, @file or -)");
        var queue = Opt("--queue", "Task queue (default: default)");
        var attrs = Opt("--search-attrs", "Search attributes JSON object");
        var priority = new Option<int?>("--priority")
        {
            Description = "Dispatch priority, 1 (highest) to 5 (lowest); default 3, inherited by what the workflow schedules",
        };
        return Leaf(o, "start", "Start a workflow", async (p, api, output) =>
        {
            var t = p.GetValue(type)!;
            var body = new JsonObject
            {
                ["workflow_type"] = t,
                ["workflow_id"] = p.GetValue(id) ?? $"wf-{t.ToLowerInvariant()}-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}",
                ["task_queue"] = p.GetValue(queue) ?? "default",
                ["namespace"] = api.Settings.Namespace,
                ["input"] = JsonInput.Read(p.GetValue(input), "--input"),
            };
            if (JsonInput.Read(p.GetValue(attrs), "--search-attrs") is { } sa) body["search_attributes"] = sa;
            if (p.GetValue(priority) is { } pr) body["priority"] = pr; // checked by the engine (1..5)
            output.Record(await api.SendAsync(HttpMethod.Post, "/workflows", body));
            return ClientExit.Ok;
        }, type, id, input, queue, attrs, priority);
    }

    static Command List(ClientOptions o)
    {
        var status = Opt("--status", "Only this status (PENDING, RUNNING, COMPLETED, FAILED, …)");
        var type = Opt("--type", "Only this workflow type");
        var attrs = Opt("--search-attrs", "Search attribute filter (JSON object)");
        var limit = new Option<int>("--limit") { Description = "How many (default 20)", DefaultValueFactory = _ => 20 };
        return Leaf(o, "list", "List workflows, newest first", async (p, api, output) =>
        {
            var q = api.NamespaceQuery + $"&limit={p.GetValue(limit)}";
            if (p.GetValue(status) is { } s) q += "&status=" + EngineApi.Escape(s);
            if (p.GetValue(type) is { } t) q += "&type=" + EngineApi.Escape(t);
            if (JsonInput.Read(p.GetValue(attrs), "--search-attrs") is { } sa) q += "&search_attrs=" + EngineApi.Escape(sa.ToJsonString());
            output.List(await api.SendAsync(HttpMethod.Get, "/workflows?" + q), ListColumns);
            return ClientExit.Ok;
        }, status, type, attrs, limit);
    }

    static Command Describe(ClientOptions o)
    {
        var id = Arg("id", "Workflow id");
        return Leaf(o, "describe", "Show one workflow", async (p, api, output) =>
        {
            var wf = await api.SendAsync(HttpMethod.Get, Path(p.GetValue(id)!));
            output.Record(wf);
            if (api.Settings.Output == OutputFormat.Table) WarnUnserved(wf);
            return ClientExit.Ok;
        }, id);
    }

    /// <summary>Type-aware dispatch: says on stderr (for a person reading the record) which waiting tasks no live worker
    /// serves — the workflow waits for a worker with that type, it is not stuck in the engine.</summary>
    static void WarnUnserved(JsonNode? wf)
    {
        if (wf?["unserved"] is not JsonArray unserved) return;
        foreach (var u in unserved)
            Console.Error.WriteLine($"note: no live worker serves {u?["kind"]} type '{u?["name"]}' on queue '{u?["task_queue"]}'; " +
                                    "the task waits until a worker that registered it polls the queue");
    }

    static Command Events(ClientOptions o)
    {
        var id = Arg("id", "Workflow id");
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events until the workflow ends" };
        return Leaf(o, "events", "Show a workflow's event history", async (p, api, output) =>
        {
            var path = Path(p.GetValue(id)!) + "/events";
            if (!p.GetValue(follow))
            {
                output.List(await api.SendAsync(HttpMethod.Get, path), "seq", "event_type", "timestamp");
                return ClientExit.Ok;
            }
            long since = 0;
            var printer = new OutputWriter(api.Settings.Output == OutputFormat.Table ? OutputFormat.Table : OutputFormat.Jsonl);
            while (true)
            {
                var batch = await api.SendAsync(HttpMethod.Get, $"{path}?since_seq={since}") as JsonArray ?? [];
                foreach (var e in batch)
                {
                    since = Math.Max(since, e?["seq"]?.GetValue<long>() ?? since);
                    printer.Record(e);
                }
                var wf = await api.SendAsync(HttpMethod.Get, Path(p.GetValue(id)!));
                if (Terminal.Contains(wf?["status"]?.GetValue<string>()) && batch.Count == 0) return ClientExit.Ok;
                await Task.Delay(500);
            }
        }, id, follow);
    }

    static Command State(ClientOptions o)
    {
        var id = Arg("id", "Workflow id");
        var name = OptionalArg("name", "One query's value");
        return Leaf(o, "state", "Show the latest query snapshot", async (p, api, output) =>
        {
            var path = Path(p.GetValue(id)!) + "/state" + (p.GetValue(name) is { } n ? "/" + EngineApi.Escape(n) : "");
            output.Record(await api.SendAsync(HttpMethod.Get, path));
            return ClientExit.Ok;
        }, id, name);
    }

    static Command Children(ClientOptions o)
    {
        var id = Arg("id", "Parent workflow id");
        return Leaf(o, "children", "List child workflows", async (p, api, output) =>
        {
            output.List(await api.SendAsync(HttpMethod.Get, Path(p.GetValue(id)!) + "/children"), ListColumns);
            return ClientExit.Ok;
        }, id);
    }

    static Command Signal(ClientOptions o)
    {
        var id = Arg("id", "Workflow id");
        var name = Arg("name", "Signal name");
        var payload = OptionalArg("payload", "Payload JSON (literal, @file or -)");
        return Leaf(o, "signal", "Send a signal to a workflow", async (p, api, output) =>
        {
            var body = new JsonObject();
            if (JsonInput.Read(p.GetValue(payload), "payload") is { } pl) body["payload"] = pl;
            await api.SendAsync(HttpMethod.Post, Path(p.GetValue(id)!) + "/signal/" + EngineApi.Escape(p.GetValue(name)!), body);
            output.Done($"signal '{p.GetValue(name)}' sent to {p.GetValue(id)}");
            return ClientExit.Ok;
        }, id, name, payload);
    }

    static Command Cancel(ClientOptions o)
    {
        var id = Arg("id", "Workflow id");
        return Leaf(o, "cancel", "Ask a workflow to cancel (cooperative)", async (p, api, output) =>
        {
            await api.SendAsync(HttpMethod.Post, Path(p.GetValue(id)!) + "/cancel", new JsonObject());
            output.Done($"cancellation requested for {p.GetValue(id)}");
            return ClientExit.Ok;
        }, id);
    }

    static Command Terminate(ClientOptions o)
    {
        var id = Arg("id", "Workflow id");
        var reason = Opt("--reason", "Why (recorded as the error)");
        return Leaf(o, "terminate", "Stop a workflow immediately", async (p, api, output) =>
        {
            var body = new JsonObject();
            if (p.GetValue(reason) is { } r) body["reason"] = r;
            await api.SendAsync(HttpMethod.Post, Path(p.GetValue(id)!) + "/terminate", body);
            output.Done($"terminated {p.GetValue(id)}");
            return ClientExit.Ok;
        }, id, reason);
    }

    static Command ContinueAsNew(ClientOptions o)
    {
        var id = Arg("id", "Workflow id");
        var input = Opt("--input", "Input JSON for the new run");
        return Leaf(o, "continue-as-new", "Close a run and start its continuation", async (p, api, output) =>
        {
            var body = new JsonObject { ["input"] = JsonInput.Read(p.GetValue(input), "--input") };
            output.Record(await api.SendAsync(HttpMethod.Post, Path(p.GetValue(id)!) + "/continue-as-new", body));
            return ClientExit.Ok;
        }, id, input);
    }

    /// <summary>The Lua half of `workflow replay` (assay.workflow's replay tester): loads the script's definitions,
    /// replays, prints the report and answers the exit code.</summary>
    const string ReplayDriver = """
        local code = require("assay.workflow")._replay_cli(...)
        if code ~= 0 then os.exit(code) end
        """;

    static Command Replay(ClientOptions o)
    {
        var id = OptionalArg("id", "Workflow id: replay its history from the engine");
        var script = new Option<string>("--script") { Description = "Worker script defining the workflow (loaded without starting a worker)", Required = true };
        var history = Opt("--history", "History file written by `assay workflow events ID -o json` (instead of ID)");
        var type = Opt("--type", "Workflow type (default: the workflow's, else the script's only workflow)");
        var runId = Opt("--run-id", "Run id seeding ctx:random/ctx:uuid as on the worker (default: the workflow's)");
        return Leaf(o, "replay", "Replay a recorded history against a script's workflow code (exit 1 on non-determinism)", async (p, api, _) =>
        {
            string? idValue = p.GetValue(id), file = p.GetValue(history), scriptPath = p.GetValue(script)!;
            string? workflowType = p.GetValue(type), run = p.GetValue(runId);
            if ((idValue is null) == (file is null))
                return UsageError("give a workflow ID or --history FILE (one of the two)");
            if (!File.Exists(scriptPath)) return UsageError($"cannot read script '{scriptPath}': no such file");
            string events;
            if (file is not null)
            {
                if (ReadHistoryFile(file) is not { } text) return ScriptRunner.ExitUsage;
                events = text;
            }
            else
            {
                var wf = await api.SendAsync(HttpMethod.Get, Path(idValue!));
                events = (await api.SendAsync(HttpMethod.Get, Path(idValue!) + "/events"))?.ToJsonString() ?? "[]";
                workflowType ??= wf?["workflow_type"]?.GetValue<string>();
                run ??= wf?["run_id"]?.GetValue<string>();
            }
            var format = api.Settings.Output == OutputFormat.Table ? "table" : "json";
            return ScriptRunner.RunCode(ReplayDriver, [scriptPath, events, format, workflowType ?? "", run ?? "", idValue ?? ""],
                GlobalSettings.FromEnvironment());
        }, id, script, history, type, runId);
    }

    static int UsageError(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return ScriptRunner.ExitUsage;
    }

    /// <summary>The history file's text once it is known to hold a JSON array (the Lua side checks the events); null after
    /// printing why not.</summary>
    static string? ReadHistoryFile(string file)
    {
        string text;
        try { text = File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            UsageError($"cannot read history file '{file}': {e.Message}");
            return null;
        }
        try
        {
            if (JsonNode.Parse(text) is JsonArray) return text;
            UsageError($"history file '{file}' is not a list of events (write it with `assay workflow events ID -o json`)");
        }
        catch (JsonException e)
        {
            UsageError($"history file '{file}' is not valid JSON: {e.Message}");
        }
        return null;
    }

    static Command Wait(ClientOptions o)
    {
        var id = Arg("id", "Workflow id");
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait (default 300)", DefaultValueFactory = _ => 300 };
        var target = Opt("--target", "Status to wait for (default: any final status)");
        return Leaf(o, "wait", "Wait until a workflow ends (exit 2 on timeout)", async (p, api, output) =>
        {
            var sw = Stopwatch.StartNew();
            var want = p.GetValue(target)?.ToUpperInvariant();
            // on a terminal, one status line that updates in place: a wait never sits silent
            bool live = !Console.IsErrorRedirected;
            while (true)
            {
                var wf = await api.SendAsync(HttpMethod.Get, Path(p.GetValue(id)!));
                var status = wf?["status"]?.GetValue<string>();
                if (live) Console.Error.Write($"\rwaiting for {p.GetValue(id)}{(want != null ? " to be " + want : " to end")}: {status} ({sw.Elapsed.TotalSeconds:0} s)\u001b[K");
                if (want != null ? status == want : Terminal.Contains(status))
                {
                    if (live) Console.Error.Write("\r\u001b[K");
                    output.Record(wf);
                    return want == null && status != "COMPLETED" ? ClientExit.Error : ClientExit.Ok;
                }
                if (sw.Elapsed.TotalSeconds >= p.GetValue(timeout))
                {
                    if (live) Console.Error.Write("\r\u001b[K");
                    Console.Error.WriteLine($"error: timed out after {p.GetValue(timeout)} s; status is {status}");
                    return ClientExit.Timeout;
                }
                await Task.Delay(200);
            }
        }, id, timeout, target);
    }
}
