using Assay.Cli.EngineClient;
using static Assay.Cli.EngineClient.ClientCommand;

namespace Assay.Cli.Commands;

/// <summary>`assay schedule …`: cron schedules that start workflows.</summary>
public static class ScheduleCommands
{
    static readonly string[] Columns = ["name", "workflow_type", "cron_expr", "timezone", "paused", "next_run_at"];

    public static Command Create(ClientOptions o) => Group(o, "schedule", "Manage cron schedules",
        Create_(o), Simple(o, "list", "List schedules", null), Simple(o, "describe", "Show one schedule", ""),
        Patch(o), Action(o, "pause", "Pause a schedule"), Action(o, "resume", "Resume a schedule"), Delete(o));

    static string Path(EngineApi api, string name, string suffix = "") =>
        "/schedules/" + EngineApi.Escape(name) + suffix + "?" + api.NamespaceQuery;

    static Command Create_(ClientOptions o)
    {
        var name = Arg("name", "Schedule name");
        var type = new Option<string>("--type") { Description = "Workflow type to start", Required = true };
        var cron = new Option<string>("--cron") { Description = "Cron expression (5 or 6 fields)", Required = true };
        var tz = Opt("--timezone", "IANA time zone (default UTC)");
        var input = Opt("--input", "Input JSON for each run");
        var queue = Opt("--queue", "Task queue (default: default)");
        var overlap = Opt("--overlap", "Overlap policy");
        return Leaf(o, "create", "Create a schedule", async (p, api, output) =>
        {
            var body = new JsonObject
            {
                ["name"] = p.GetValue(name), ["workflow_type"] = p.GetValue(type), ["cron_expr"] = p.GetValue(cron),
                ["namespace"] = api.Settings.Namespace, ["task_queue"] = p.GetValue(queue) ?? "default",
                ["input"] = JsonInput.Read(p.GetValue(input), "--input"),
            };
            if (p.GetValue(tz) is { } z) body["timezone"] = z;
            if (p.GetValue(overlap) is { } ov) body["overlap_policy"] = ov;
            output.Record(await api.SendAsync(HttpMethod.Post, "/schedules", body));
            return ClientExit.Ok;
        }, name, type, cron, tz, input, queue, overlap);
    }

    static Command Simple(ClientOptions o, string verb, string description, string? withName)
    {
        var name = Arg("name", "Schedule name");
        Symbol[] symbols = withName == null ? [] : [name];
        return Leaf(o, verb, description, async (p, api, output) =>
        {
            if (withName == null) output.List(await api.SendAsync(HttpMethod.Get, "/schedules?" + api.NamespaceQuery), Columns);
            else output.Record(await api.SendAsync(HttpMethod.Get, Path(api, p.GetValue(name)!)));
            return ClientExit.Ok;
        }, symbols);
    }

    static Command Patch(ClientOptions o)
    {
        var name = Arg("name", "Schedule name");
        var cron = Opt("--cron", "New cron expression");
        var tz = Opt("--timezone", "New time zone");
        var input = Opt("--input", "New input JSON");
        var queue = Opt("--queue", "New task queue");
        var overlap = Opt("--overlap", "New overlap policy");
        return Leaf(o, "patch", "Change a schedule", async (p, api, output) =>
        {
            var body = new JsonObject();
            if (p.GetValue(cron) is { } c) body["cron_expr"] = c;
            if (p.GetValue(tz) is { } z) body["timezone"] = z;
            if (JsonInput.Read(p.GetValue(input), "--input") is { } i) body["input"] = i;
            if (p.GetValue(queue) is { } q) body["task_queue"] = q;
            if (p.GetValue(overlap) is { } ov) body["overlap_policy"] = ov;
            if (body.Count == 0) throw new ClientException("schedule patch: give at least one of --cron, --timezone, --input, --queue, --overlap", ClientExit.BadInput);
            output.Record(await api.SendAsync(HttpMethod.Patch, Path(api, p.GetValue(name)!), body));
            return ClientExit.Ok;
        }, name, cron, tz, input, queue, overlap);
    }

    static Command Action(ClientOptions o, string verb, string description)
    {
        var name = Arg("name", "Schedule name");
        return Leaf(o, verb, description, async (p, api, output) =>
        {
            output.Record(await api.SendAsync(HttpMethod.Post, Path(api, p.GetValue(name)!, "/" + verb), new JsonObject()));
            return ClientExit.Ok;
        }, name);
    }

    static Command Delete(ClientOptions o)
    {
        var name = Arg("name", "Schedule name");
        return Leaf(o, "delete", "Delete a schedule", async (p, api, output) =>
        {
            await api.SendAsync(HttpMethod.Delete, Path(api, p.GetValue(name)!));
            output.Done($"schedule '{p.GetValue(name)}' deleted");
            return ClientExit.Ok;
        }, name);
    }
}
