namespace Assay.Engine.Api;

/// <summary>
/// The worker protocol: workflow tasks (/workflow-tasks/…) and activity tasks (/tasks/…).
/// Lease tokens: every claim (workflow task or activity attempt) gets a fresh random <c>lease_token</c>,
/// answered to the claimant only. A poll with <c>"require_lease_token": true</c> (or any poll when the
/// engine runs with <c>--require-lease-token</c>) makes its claim lease-bound: every report on it —
/// commands, heartbeats, complete, fail — must carry that token, or it is refused with 409. Claims by
/// polls that did not ask (the seed client, which never echoes a token) accept reports without a token as
/// before; a token that is sent is always checked. Eagerly dispatched activities inherit the binding of
/// the workflow task whose commands scheduled them. docs/engine.md "Lease tokens".
/// </summary>
internal static class TaskEndpoints
{
    public static void Map(IEndpointRouteBuilder api, WorkflowEngine engine, IHostApplicationLifetime lifetime, bool requireLeaseToken)
    {
        IDispatchStore dispatch = engine.Store;
        IActivityStore activities = engine.Store;

        api.MapPost("/workflow-tasks/poll", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var (queue, worker, wait) = PollArgs(b, engine.Timings.MaxPollWait);
            using var cts = PollCancellation(ctx, lifetime);
            var task = await engine.PollWorkflowTaskAsync(queue, worker, wait, b.Long("since_seq") ?? 0, cts.Token,
                LeaseBound(b, requireLeaseToken), TypesOf(b, "workflow_types"));
            // The worker gave up the poll (it is stopping) as the task was claimed: nobody would read the answer.
            if (await ReleaseIfUnreadAsync(ctx, dispatch, task, worker)) return;
            await ctx.WriteAsync(200, w => WriteWorkflowTask(w, task)); // null: the empty shape the seed client expects
        });

        api.MapPost("/workflow-tasks/{id}/commands", async ctx =>
        {
            var id = ctx.Route("id");
            using var b = await JsonBody.ReadAsync(ctx);
            var worker = b.RequiredString("worker_id");
            var token = b.String("lease_token");
            var eager = b.Long("eager_activities") ?? 0;
            if (eager is < 0 or > MaxEagerActivities)
                throw EngineException.Invalid($"'eager_activities' must be between 0 and {MaxEagerActivities}");
            IReadOnlyList<WorkflowCommand> commands;
            try
            {
                commands = CommandParser.Parse(b.Element("commands"));
            }
            catch (EngineException e) when (e.Kind == ErrorKind.Invalid)
            {
                // Nothing of the batch is applied; the task is released and the reason recorded in history.
                await dispatch.RejectWorkflowTaskAsync(id, worker, token, e.Message);
                throw;
            }
            var claimed = await dispatch.SubmitCommandsAsync(id, worker, token, commands, (int)eager, TypesOf(b, "activity_types"));
            if (eager == 0)
            {
                await ctx.EmptyAsync(); // the reference's answer; clients that did not ask for tasks get nothing new
                return;
            }
            foreach (var a in claimed) engine.Metrics.ActivityClaimed(a);
            await ctx.WriteAsync(200, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("activity_tasks");
                foreach (var a in claimed) JsonSerializer.Serialize(w, a, EngineJsonContext.Wire.ActivityRecord);
                w.WriteEndArray();
                w.WriteEndObject();
            });
        });

        api.MapPost("/workflow-tasks/{id}/release", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            await dispatch.ReleaseWorkflowTaskAsync(ctx.Route("id"), b.RequiredString("worker_id"), b.RequiredString("lease_token"),
                ReleaseOf(b));
            await ctx.EmptyAsync();
        });

        api.MapPost("/workflow-tasks/{id}/heartbeat", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var expires = await dispatch.ExtendLeaseAsync(ctx.Route("id"), b.RequiredString("worker_id"), b.String("lease_token"),
                engine.Timings.DispatchTimeout.TotalSeconds);
            await ctx.WriteAsync(200, w => { w.WriteStartObject(); w.WriteNumber("lease_expires_at", expires); w.WriteEndObject(); });
        });

        api.MapPost("/tasks/poll", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var (queue, worker, wait) = PollArgs(b, engine.Timings.MaxPollWait);
            using var cts = PollCancellation(ctx, lifetime);
            var activity = await engine.PollActivityAsync(queue, worker, wait, cts.Token, LeaseBound(b, requireLeaseToken),
                TypesOf(b, "activity_types"));
            if (activity is not null && ctx.RequestAborted.IsCancellationRequested)
            {
                await ReleaseQuietlyAsync(() => activities.ReleaseActivityAsync(activity.Id, new AttemptCheck(worker, activity.Attempt, activity.LeaseToken), TaskRelease.Immediate));
                engine.Metrics.ActivityReported(activity.Id, "released");
                return;
            }
            if (activity is null)
                await ctx.WriteAsync(200, w => { w.WriteStartObject(); w.WriteNull("task"); w.WriteEndObject(); });
            else
                await ctx.JsonAsync(200, activity, EngineJsonContext.Wire.ActivityRecord);
        });

        api.MapPost("/tasks/{id}/complete", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var id = ctx.RouteId("id");
            var next = EagerWorkflowTaskOf(b, engine);
            var task = await activities.CompleteActivityAsync(id, AttemptOf(b), b.Raw("result"), next);
            engine.Metrics.ActivityReported(id, "completed");
            await AnswerReportAsync(ctx, engine, next, task);
        });

        api.MapPost("/tasks/{id}/fail", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var failure = new ActivityFailure(b.RequiredString("error"), b.Bool("non_retryable") ?? false, b.String("error_type"));
            var id = ctx.RouteId("id");
            var next = EagerWorkflowTaskOf(b, engine);
            var task = await activities.FailActivityAsync(id, AttemptOf(b), failure, next);
            engine.Metrics.ActivityReported(id, "failed");
            await AnswerReportAsync(ctx, engine, next, task);
        });

        api.MapPost("/tasks/{id}/release", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var id = ctx.RouteId("id");
            var attempt = b.Long("attempt") ?? throw EngineException.Invalid("'attempt' is required");
            await activities.ReleaseActivityAsync(id, new AttemptCheck(b.RequiredString("worker_id"), attempt, b.String("lease_token")), ReleaseOf(b));
            engine.Metrics.ActivityReported(id, "released");
            await ctx.EmptyAsync();
        });

        api.MapPost("/tasks/{id}/heartbeat", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var cancel = await activities.HeartbeatActivityAsync(ctx.RouteId("id"), AttemptOf(b), b.Raw("details"));
            await ctx.WriteAsync(200, w => { w.WriteStartObject(); w.WriteBoolean("cancel_requested", cancel); w.WriteEndObject(); });
        });
    }

    /// <summary>A workflow task as a poll answers it (null: the empty poll answer).</summary>
    static void WriteWorkflowTask(Utf8JsonWriter w, WorkflowTask? task)
    {
        if (task is null) { w.WriteNullValue(); return; }
        w.WriteStartObject();
        w.WriteString("workflow_id", task.WorkflowId);
        w.WriteString("run_id", task.RunId);
        w.WriteString("namespace", task.Namespace);
        w.WriteString("workflow_type", task.WorkflowType);
        w.WriteString("task_queue", task.TaskQueue);
        w.WriteRawOrNull("input", task.Input);
        w.WriteString("lease_token", task.LeaseToken);
        w.WriteNumber("lease_expires_at", task.LeaseExpiresAt);
        w.WriteStartArray("history");
        foreach (var e in task.History)
        {
            w.WriteStartObject();
            w.WriteNumber("seq", e.Seq);
            w.WriteString("event_type", e.EventType);
            w.WriteRawOrNull("payload", e.Payload); // parsed here, unlike /events (reference behaviour)
            w.WriteNumber("timestamp", e.Timestamp);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Eager workflow task (docs/engine.md): an activity report with <c>"eager_workflow_task": true</c> asks for the
    /// workflow task its outcome creates, of one of <c>workflow_types</c> when listed. Null when the report did not ask.</summary>
    static EagerWorkflowTask? EagerWorkflowTaskOf(JsonBody b, WorkflowEngine engine)
    {
        if (b.Bool("eager_workflow_task") != true) return null;
        var worker = b.String("worker_id") ?? throw EngineException.Invalid("'worker_id' is required with 'eager_workflow_task'");
        return new EagerWorkflowTask(worker, engine.Timings.DispatchTimeout.TotalSeconds, TypesOf(b, "workflow_types"));
    }

    /// <summary>The answer to an activity report: empty as ever, or with <c>eager_workflow_task</c> the handed-over workflow
    /// task (or null). A client that went away meanwhile reads no answer: its task goes back to the queue at once.</summary>
    static async Task AnswerReportAsync(HttpContext ctx, WorkflowEngine engine, EagerWorkflowTask? next, WorkflowTask? task)
    {
        IDispatchStore dispatch = engine.Store;
        if (next is null)
        {
            await ctx.EmptyAsync(); // the reference's answer
            return;
        }
        if (await ReleaseIfUnreadAsync(ctx, dispatch, task, next.WorkerId)) return;
        if (task is not null) engine.Metrics.Inc("assay_eager_workflow_tasks_total");
        await ctx.WriteAsync(200, w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("workflow_task");
            WriteWorkflowTask(w, task);
            w.WriteEndObject();
        });
    }

    /// <summary>A workflow task claimed for a client that has gone away (nobody will read the answer) goes back to the queue
    /// at once (true); otherwise false: answer it.</summary>
    static async Task<bool> ReleaseIfUnreadAsync(HttpContext ctx, IDispatchStore dispatch, WorkflowTask? task, string worker)
    {
        if (task is null || !ctx.RequestAborted.IsCancellationRequested) return false;
        await ReleaseQuietlyAsync(() => dispatch.ReleaseWorkflowTaskAsync(task.WorkflowId, worker, task.LeaseToken, TaskRelease.Immediate));
        return true;
    }

    /// <summary>Most activities one command batch may hand back by eager dispatch.</summary>
    const int MaxEagerActivities = 64;

    static (string Queue, string Worker, TimeSpan Wait) PollArgs(JsonBody b, TimeSpan maxWait)
    {
        var wait = b.Double("wait_secs") ?? 0;
        if (wait < 0 || wait > maxWait.TotalSeconds)
            throw EngineException.Invalid($"'wait_secs' must be between 0 and {maxWait.TotalSeconds:0.###}");
        return (b.RequiredString("queue"), b.RequiredString("worker_id"), TimeSpan.FromSeconds(wait));
    }

    /// <summary>Most types one poll may list (each is one indexed lookup of the claim).</summary>
    public const int MaxPollTypes = 100;

    /// <summary>Type-aware dispatch: the workflow types (or activity names) a poll takes, deduplicated; absent = any type
    /// (the seed client's polls). An empty list would never match, so it is refused like an oversized one.</summary>
    static IReadOnlyList<string>? TypesOf(JsonBody b, string field)
    {
        if (b.StringArray(field) is not { } list) return null;
        var types = list.Distinct(StringComparer.Ordinal).ToList();
        if (types.Count is 0 or > MaxPollTypes)
            throw EngineException.Invalid($"'{field}' must list between 1 and {MaxPollTypes} types");
        if (types.Any(t => t.Length == 0)) throw EngineException.Invalid($"'{field}' must not contain empty names");
        return types;
    }

    /// <summary>A waiting poll ends when its client disconnects or the engine shuts down (answered empty).</summary>
    static CancellationTokenSource PollCancellation(HttpContext ctx, IHostApplicationLifetime lifetime) =>
        CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, lifetime.ApplicationStopping);

    /// <summary>Release options: backoff_secs (0–300, default 0) and reason ("shutdown" or "unhandled_type": the worker
    /// does not define the task's type, which the workflow then shows).</summary>
    static TaskRelease ReleaseOf(JsonBody b)
    {
        var backoff = b.Double("backoff_secs") ?? 0;
        if (!(backoff >= 0 && backoff <= TaskRelease.MaxBackoffSecs))
            throw EngineException.Invalid($"'backoff_secs' must be between 0 and {TaskRelease.MaxBackoffSecs}");
        var reason = b.String("reason");
        if (reason is not (null or "shutdown" or "unhandled_type"))
            throw EngineException.Invalid("'reason' must be \"shutdown\" or \"unhandled_type\"");
        return new TaskRelease(backoff, reason == "unhandled_type");
    }

    /// <summary>A release on behalf of a client that went away: the task was just claimed, so it can only fail if the
    /// workflow finished meanwhile (then there is nothing to hand back).</summary>
    static async Task ReleaseQuietlyAsync(Func<Task> release)
    {
        try { await release(); }
        catch (EngineException) { }
    }

    static AttemptCheck AttemptOf(JsonBody b) => new(b.String("worker_id"), b.Long("attempt"), b.String("lease_token"));

    /// <summary>Whether a poll's claim is lease-bound: the worker asked for it, or the engine requires it of all.</summary>
    static bool LeaseBound(JsonBody b, bool requireLeaseToken) => requireLeaseToken || (b.Bool("require_lease_token") ?? false);
}
