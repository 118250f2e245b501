using Assay.Cli.EngineClient;
using static Assay.Cli.EngineClient.ClientCommand;

namespace Assay.Cli.Commands;

/// <summary>`assay namespace …`, `assay worker list`, `assay queue stats|describe|set`.</summary>
public static class RegistryCommands
{
    public static Command Namespaces(ClientOptions o)
    {
        var name = Arg("name", "Namespace");
        var name2 = Arg("name", "Namespace");
        var name3 = Arg("name", "Namespace");
        return Group(o, "namespace", "Manage namespaces",
            Leaf(o, "create", "Create a namespace", async (p, api, output) =>
            {
                await api.SendAsync(HttpMethod.Post, "/namespaces", new JsonObject { ["name"] = p.GetValue(name) });
                output.Done($"namespace '{p.GetValue(name)}' created");
                return ClientExit.Ok;
            }, name),
            Leaf(o, "list", "List namespaces", async (_, api, output) =>
            {
                output.List(await api.SendAsync(HttpMethod.Get, "/namespaces"), "name", "created_at");
                return ClientExit.Ok;
            }),
            Leaf(o, "describe", "Show a namespace with live stats", async (p, api, output) =>
            {
                output.Record(await api.SendAsync(HttpMethod.Get, "/namespaces/" + EngineApi.Escape(p.GetValue(name2)!)));
                return ClientExit.Ok;
            }, name2),
            Leaf(o, "delete", "Delete an empty namespace", async (p, api, output) =>
            {
                await api.SendAsync(HttpMethod.Delete, "/namespaces/" + EngineApi.Escape(p.GetValue(name3)!));
                output.Done($"namespace '{p.GetValue(name3)}' deleted");
                return ClientExit.Ok;
            }, name3));
    }

    public static Command Workers(ClientOptions o) => Group(o, "worker", "Inspect workers",
        Leaf(o, "list", "List live workers", async (_, api, output) =>
        {
            output.List(await api.SendAsync(HttpMethod.Get, "/workers?" + api.NamespaceQuery),
                "id", "identity", "task_queue", "active_tasks", "last_heartbeat");
            return ClientExit.Ok;
        }));

    public static Command Queues(ClientOptions o) => Group(o, "queue", "Inspect task queues and set their rate limits",
        Leaf(o, "stats", "Backlog, workers and rate limit per queue", async (_, api, output) =>
        {
            output.List(await api.SendAsync(HttpMethod.Get, "/queues?" + api.NamespaceQuery),
                "queue", "pending_activities", "running_activities", "pending_workflow_tasks", "workers", "max_activities_per_second");
            return ClientExit.Ok;
        }), QueueDescribe(o), QueueSet(o));

    static string QueuePath(ParseResult p, Argument<string> name) => "/queues/" + EngineApi.Escape(p.GetValue(name)!);

    static Command QueueDescribe(ClientOptions o)
    {
        var name = Arg("name", "Task queue");
        return Leaf(o, "describe", "Show a queue's settings (its rate limit)", async (p, api, output) =>
        {
            output.Record(await api.SendAsync(HttpMethod.Get, QueuePath(p, name)));
            return ClientExit.Ok;
        }, name);
    }

    static Command QueueSet(ClientOptions o)
    {
        var name = Arg("name", "Task queue (queues are named across namespaces)");
        var rate = new Option<double?>("--max-activities-per-second")
        {
            Description = "Activities claimed from the queue per second, by all workers and engines together",
        };
        var unlimited = new Option<bool>("--no-rate-limit") { Description = "Clear the queue's rate limit" };
        return Leaf(o, "set", "Set a queue's rate limit", async (p, api, output) =>
        {
            var limit = p.GetValue(rate);
            if (limit is null == !p.GetValue(unlimited))
                throw new ClientException("queue set: give one of --max-activities-per-second N or --no-rate-limit", ClientExit.BadInput);
            var body = new JsonObject { ["max_activities_per_second"] = limit }; // null clears it; the engine checks the range
            output.Record(await api.SendAsync(HttpMethod.Put, QueuePath(p, name), body));
            return ClientExit.Ok;
        }, name, rate, unlimited);
    }
}
