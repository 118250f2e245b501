namespace Assay.Engine.Api;

/// <summary>/api/v1/workflows/… and /api/v1/activities/{id}: the client-facing workflow surface.</summary>
internal static class WorkflowEndpoints
{
    public static void Map(IEndpointRouteBuilder api, WorkflowEngine engine)
    {
        IWorkflowStore workflows = engine.Store;
        IActivityStore activities = engine.Store;

        api.MapPost("/workflows", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var request = new StartWorkflowRequest(
                WorkflowId: b.RequiredId("workflow_id"),
                WorkflowType: b.RequiredString("workflow_type"),
                Namespace: b.Id("namespace") ?? "main",
                TaskQueue: b.String("task_queue") ?? "main",
                Input: b.Raw("input"),
                SearchAttributes: SearchAttributesOf(b),
                IdempotentReuse: b.Bool("idempotent") ?? false,
                Priority: b.Priority() ?? Priorities.Default);
            var started = await workflows.StartWorkflowAsync(request);
            await ctx.JsonAsync(started.Existing ? 200 : 201, started, EngineJsonContext.Wire.StartResult);
        });

        api.MapGet("/workflows", async ctx =>
        {
            var status = ctx.Query("status");
            if (status is not null && !WorkflowStatus.All.Contains(status))
                throw EngineException.Invalid($"unknown status '{status}' (expected one of {string.Join(", ", WorkflowStatus.All)})");
            var filter = new WorkflowFilter(ctx.Namespace(), status, ctx.Query("type"), SearchFilterOf(ctx.Query("search_attrs")),
                Limit: IntQuery(ctx, "limit", 50, 1, 1000), Offset: IntQuery(ctx, "offset", 0, 0, int.MaxValue));
            await ctx.JsonAsync(200, await workflows.ListWorkflowsAsync(filter), EngineJsonContext.Wire.IReadOnlyListWorkflowRecord);
        });

        api.MapGet("/workflows/{id}", async ctx =>
        {
            var id = ctx.Route("id");
            var wf = await workflows.GetWorkflowAsync(id) ?? throw EngineException.NotFound($"workflow {id}");
            await ctx.JsonAsync(200, wf, EngineJsonContext.Wire.WorkflowRecord);
        });

        api.MapGet("/workflows/{id}/events", async ctx =>
        {
            var after = IntQuery(ctx, "since_seq", 0, 0, int.MaxValue);
            await ctx.JsonAsync(200, await workflows.GetEventsAsync(ctx.Route("id"), after), EngineJsonContext.Wire.IReadOnlyListEventRecord);
        });

        api.MapGet("/workflows/{id}/timeline", ctx => TimelineEndpoint.ServeAsync(ctx, workflows, activities, engine.Time));

        api.MapPost("/workflows/{id}/signal/{name}", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            await workflows.SignalAsync(ctx.Route("id"), ctx.Route("name"), b.Raw("payload"));
            await ctx.EmptyAsync();
        });

        api.MapPost("/workflows/{id}/cancel", async ctx =>
        {
            await workflows.CancelAsync(ctx.Route("id"));
            await ctx.EmptyAsync();
        });

        api.MapPost("/workflows/{id}/terminate", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            await workflows.TerminateAsync(ctx.Route("id"), b.String("reason"), b.Bool("terminate_children") ?? true);
            await ctx.EmptyAsync();
        });

        api.MapGet("/workflows/{id}/children", async ctx =>
            await ctx.JsonAsync(200, await workflows.ListChildrenAsync(ctx.Route("id")), EngineJsonContext.Wire.IReadOnlyListWorkflowRecord));

        api.MapPost("/workflows/{id}/continue-as-new", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var next = await workflows.ContinueAsNewAsync(ctx.Route("id"), b.Raw("input"));
            await ctx.JsonAsync(201, next, EngineJsonContext.Wire.StartResult);
        });

        api.MapGet("/workflows/{id}/state", async ctx =>
        {
            var id = ctx.Route("id");
            var snap = await workflows.GetLatestSnapshotAsync(id) ?? throw EngineException.NotFound($"state of workflow {id} (no snapshot yet)");
            await ctx.WriteAsync(200, w =>
            {
                w.WriteStartObject();
                w.WriteRawOrNull("state", snap.StateJson);
                w.WriteNumber("event_seq", snap.EventSeq);
                w.WriteNumber("created_at", snap.CreatedAt);
                w.WriteEndObject();
            });
        });

        api.MapGet("/workflows/{id}/state/{name}", async ctx =>
        {
            var (id, name) = (ctx.Route("id"), ctx.Route("name"));
            var snap = await workflows.GetLatestSnapshotAsync(id) ?? throw EngineException.NotFound($"state of workflow {id} (no snapshot yet)");
            using var doc = snap.StateJson is null ? null : JsonDocument.Parse(snap.StateJson);
            if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(name, out var value))
                throw EngineException.NotFound($"query {name} of workflow {id}");
            var raw = value.GetRawText();
            await ctx.WriteAsync(200, w =>
            {
                w.WriteStartObject();
                w.WriteRawOrNull("value", raw);
                w.WriteNumber("event_seq", snap.EventSeq);
                w.WriteNumber("created_at", snap.CreatedAt);
                w.WriteEndObject();
            });
        });

        api.MapPost("/workflows/{id}/activities", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var activity = await activities.ScheduleActivityAsync(ctx.Route("id"), CommandParser.ParseActivity(b, defaultQueue: null));
            await ctx.JsonAsync(201, activity, EngineJsonContext.Wire.ActivityRecord);
        });

        api.MapGet("/activities/{id}", async ctx =>
        {
            var id = ctx.RouteId("id");
            var activity = await activities.GetActivityAsync(id) ?? throw EngineException.NotFound($"activity {id}");
            await ctx.JsonAsync(200, activity, EngineJsonContext.Wire.ActivityRecord);
        });
    }

    /// <summary>Search attributes at start: an object (stored as given), or nothing.</summary>
    static string? SearchAttributesOf(JsonBody b)
    {
        var pairs = b.Object("search_attributes"); // validates: object, or [] for an empty Lua table
        return pairs is null || b.Element("search_attributes")!.Value.ValueKind == JsonValueKind.Array ? null : b.Raw("search_attributes");
    }

    /// <summary><c>search_attrs</c> list filter: a URL-encoded JSON object; every key must equal the stored value.</summary>
    static IReadOnlyList<KeyValuePair<string, string>> SearchFilterOf(string? json)
    {
        if (json is null) return [];
        try
        {
            using var doc = JsonDocument.Parse(json);
            return JsonBody.ObjectPairs(doc.RootElement, "search_attrs");
        }
        catch (JsonException)
        {
            throw EngineException.Invalid("'search_attrs' must be a JSON object");
        }
    }

    public static int IntQuery(HttpContext ctx, string name, int fallback, int min, int max)
    {
        var raw = ctx.Query(name);
        if (raw is null) return fallback;
        if (!int.TryParse(raw, out var v) || v < min || v > max)
            throw EngineException.Invalid($"query parameter '{name}' must be an integer between {min} and {max}");
        return v;
    }
}
