using Assay.Engine.Schedules;

namespace Assay.Engine.Api;

/// <summary>Workers, namespaces, queues and schedules.</summary>
internal static class RegistryEndpoints
{
    public static void Map(IEndpointRouteBuilder api, WorkflowEngine engine)
    {
        IRegistryStore registry = engine.Store;
        IScheduleStore schedules = engine.Store;

        // ── workers ──
        api.MapPost("/workers/register", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var id = await registry.RegisterWorkerAsync(new WorkerRegistration(
                b.RequiredString("identity"), b.RequiredString("queue"), b.Id("namespace") ?? "main",
                NamesJson(b.StringArray("workflows")), NamesJson(b.StringArray("activities")),
                b.Long("max_concurrent_workflows") ?? 10, b.Long("max_concurrent_activities") ?? 10));
            await ctx.WriteAsync(200, w => { w.WriteStartObject(); w.WriteString("worker_id", id); w.WriteEndObject(); });
        });

        api.MapPost("/workers/heartbeat", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            await registry.HeartbeatWorkerAsync(b.RequiredString("worker_id"));
            await ctx.EmptyAsync();
        });

        api.MapGet("/workers", async ctx =>
            await ctx.JsonAsync(200, await registry.ListWorkersAsync(ctx.Namespace()), EngineJsonContext.Wire.IReadOnlyListWorkerRecord));

        // ── namespaces and queues ──
        api.MapPost("/namespaces", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var name = b.RequiredId("name");
            await registry.CreateNamespaceAsync(name);
            if (b.Has("retention_secs")) await registry.SetNamespaceRetentionAsync(name, Retention(b));
            await ctx.EmptyAsync(StatusCodes.Status201Created);
        });

        // Retention: {"retention_secs": N}; null or absent = keep forever.
        api.MapPatch("/namespaces/{name}", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var name = ctx.Route("name");
            await registry.SetNamespaceRetentionAsync(name, Retention(b));
            var ns = (await registry.ListNamespacesAsync()).First(n => n.Name == name);
            await ctx.JsonAsync(200, ns, EngineJsonContext.Wire.NamespaceRecord);
        });

        api.MapGet("/namespaces", async ctx =>
            await ctx.JsonAsync(200, await registry.ListNamespacesAsync(), EngineJsonContext.Wire.IReadOnlyListNamespaceRecord));

        api.MapGet("/namespaces/{name}", async ctx =>
            await ctx.JsonAsync(200, await registry.GetNamespaceStatsAsync(ctx.Route("name")), EngineJsonContext.Wire.NamespaceStats));

        api.MapDelete("/namespaces/{name}", async ctx =>
        {
            await registry.DeleteNamespaceAsync(ctx.Route("name"));
            await ctx.EmptyAsync();
        });

        api.MapGet("/queues", async ctx =>
            await ctx.JsonAsync(200, await registry.GetQueueStatsAsync(ctx.Namespace()), EngineJsonContext.Wire.IReadOnlyListQueueStats));

        // Queue settings (by queue name, across namespaces): {"max_activities_per_second": N}; PUT replaces them, so an
        // absent or null limit clears it.
        api.MapGet("/queues/{name}", async ctx =>
            await ctx.JsonAsync(200, await registry.GetQueueSettingsAsync(QueueName(ctx)), EngineJsonContext.Wire.QueueSettings));

        api.MapPut("/queues/{name}", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var settings = await registry.SetQueueRateLimitAsync(QueueName(ctx), RateLimit(b));
            await ctx.JsonAsync(200, settings, EngineJsonContext.Wire.QueueSettings);
        });

        // ── schedules (CRUD; the firing loop belongs to the scheduler) ──
        api.MapPost("/schedules", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var create = new ScheduleCreate(
                Name: b.RequiredId("name"),
                Namespace: b.Id("namespace") ?? "main",
                WorkflowType: b.RequiredString("workflow_type"),
                CronExpr: b.RequiredString("cron_expr"),
                Timezone: b.String("timezone") ?? "UTC",
                Input: b.Raw("input"),
                TaskQueue: b.String("task_queue") ?? "main",
                OverlapPolicy: CronSchedule.ValidateOverlap(b.String("overlap_policy")),
                CatchupWindowSecs: CronSchedule.ValidateCatchupWindow(b.Double("catchup_window_secs")));
            if (create.Name.Length > 200 || create.Name.Any(char.IsControl) || create.Name.Contains('/'))
                throw EngineException.Invalid("invalid schedule name");
            var next = CronSchedule.NextRunAt(create.CronExpr, create.Timezone, engine.Time.EpochSeconds()); // validates cron + tz
            var created = await schedules.CreateScheduleAsync(create, next);
            engine.SchedulerWake.Fire();
            await ctx.JsonAsync(201, created, EngineJsonContext.Wire.ScheduleRecord);
        });

        api.MapGet("/schedules", async ctx =>
            await ctx.JsonAsync(200, await schedules.ListSchedulesAsync(ctx.Namespace()), EngineJsonContext.Wire.IReadOnlyListScheduleRecord));

        api.MapGet("/schedules/{name}", async ctx =>
        {
            var name = ctx.Route("name");
            var s = await schedules.GetScheduleAsync(ctx.Namespace(), name) ?? throw EngineException.NotFound($"schedule {name}");
            await ctx.JsonAsync(200, s, EngineJsonContext.Wire.ScheduleRecord);
        });

        api.MapPatch("/schedules/{name}", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var patch = new SchedulePatch(b.String("cron_expr"), b.String("timezone"), b.Raw("input"), b.String("task_queue"),
                b.String("overlap_policy") is { } o ? CronSchedule.ValidateOverlap(o) : null,
                b.Double("catchup_window_secs") is { } cw ? CronSchedule.ValidateCatchupWindow(cw) : null);
            if (patch.CronExpr is not null) CronSchedule.ParseCron(patch.CronExpr);
            if (patch.Timezone is not null) CronSchedule.ParseTimeZone(patch.Timezone);
            var updated = await schedules.UpdateScheduleAsync(ctx.Namespace(), ctx.Route("name"), current =>
            {
                var s = current with
                {
                    CronExpr = patch.CronExpr ?? current.CronExpr, Timezone = patch.Timezone ?? current.Timezone,
                    Input = patch.Input ?? current.Input, TaskQueue = patch.TaskQueue ?? current.TaskQueue,
                    OverlapPolicy = patch.OverlapPolicy ?? current.OverlapPolicy,
                    CatchupWindowSecs = patch.CatchupWindowSecs ?? current.CatchupWindowSecs,
                };
                // A new cron or zone takes effect now, not after the old next time.
                var next = patch.CronExpr is null && patch.Timezone is null
                    ? current.NextRunAt
                    : CronSchedule.NextRunAt(s.CronExpr, s.Timezone, engine.Time.EpochSeconds());
                return (s, next);
            });
            engine.SchedulerWake.Fire();
            await ctx.JsonAsync(200, updated, EngineJsonContext.Wire.ScheduleRecord);
        });

        api.MapDelete("/schedules/{name}", async ctx =>
        {
            await schedules.DeleteScheduleAsync(ctx.Namespace(), ctx.Route("name"));
            await ctx.EmptyAsync();
        });

        api.MapPost("/schedules/{name}/pause", ctx => SetPausedAsync(ctx, engine, schedules, paused: true));
        api.MapPost("/schedules/{name}/resume", ctx => SetPausedAsync(ctx, engine, schedules, paused: false));

        // Run now; the overlap policy applies (a skip answers outcome "skipped").
        api.MapPost("/schedules/{name}/trigger", async ctx =>
        {
            var r = await schedules.TriggerScheduleAsync(ctx.Namespace(), ctx.Route("name"));
            await ctx.JsonAsync(r.Outcome == "started" ? 201 : 200, r, EngineJsonContext.Wire.ScheduleFireResult);
        });

        // Start every occurrence in [from, to] that has not run (epoch seconds or ISO-8601 times).
        api.MapPost("/schedules/{name}/backfill", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var from = Time(b, "from");
            var to = Time(b, "to");
            if (to < from) throw EngineException.Invalid("'to' must not be before 'from'");
            if (to > engine.Time.EpochSeconds() + 1) throw EngineException.Invalid("backfill cannot start future occurrences");
            var r = await schedules.BackfillScheduleAsync(ctx.Namespace(), ctx.Route("name"), from, to);
            await ctx.JsonAsync(200, r, EngineJsonContext.Wire.IReadOnlyListScheduleFireResult);
        });
    }

    static double Time(JsonBody b, string name)
    {
        if (b.Element(name) is not { } e) throw EngineException.Invalid($"'{name}' is required");
        if (e.ValueKind == JsonValueKind.Number) return Limits.EpochTime(e.GetDouble(), name);
        if (e.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(e.GetString(), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var dto))
            return dto.ToUnixTimeMilliseconds() / 1000.0;
        throw EngineException.Invalid($"'{name}' must be epoch seconds or an ISO-8601 time");
    }

    static async Task SetPausedAsync(HttpContext ctx, WorkflowEngine engine, IScheduleStore schedules, bool paused)
    {
        var updated = await schedules.UpdateScheduleAsync(ctx.Namespace(), ctx.Route("name"), current =>
        {
            var s = current with { Paused = paused };
            // Resuming does not backfill: the next fire is the next cron time from now.
            var next = paused ? current.NextRunAt : CronSchedule.NextRunAt(s.CronExpr, s.Timezone, engine.Time.EpochSeconds());
            return (s, next);
        });
        engine.SchedulerWake.Fire();
        await ctx.JsonAsync(200, updated, EngineJsonContext.Wire.ScheduleRecord);
    }

    static string QueueName(HttpContext ctx) => Limits.Id(ctx.Route("name"), "queue");

    static double? RateLimit(JsonBody b)
    {
        const string field = "max_activities_per_second";
        return b.Double(field) switch
        {
            null => null,
            > 0 and <= Limits.MaxActivitiesPerSecond and var rate => rate,
            _ => throw EngineException.Invalid(
                $"field '{field}' must be a number above 0 and at most {Limits.MaxActivitiesPerSecond:0} (null: no limit)"),
        };
    }

    static double? Retention(JsonBody b)
    {
        return b.Duration("retention_secs", allowZero: true);
    }

    static string? NamesJson(IReadOnlyList<string>? names) =>
        names is null ? null : JsonText.Build(w => { w.WriteStartArray(); foreach (var n in names) w.WriteStringValue(n); w.WriteEndArray(); });
}
