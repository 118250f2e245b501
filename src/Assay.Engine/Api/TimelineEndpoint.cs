namespace Assay.Engine.Api;

/// <summary><c>GET /api/v1/workflows/{id}/timeline</c> (mapped with the other workflow routes): the run as spans on a
/// time axis (<see cref="WorkflowTimeline"/>), drawn by the dashboard. Four indexed reads (the workflow, its events,
/// activities and children), nothing stored.</summary>
internal static class TimelineEndpoint
{
    public static async Task ServeAsync(HttpContext ctx, IWorkflowStore workflows, IActivityStore activities, TimeProvider time)
    {
        var id = ctx.Route("id");
        // Records first, history last: an outcome that lands in between is then in the history, which wins.
        var wf = await workflows.GetWorkflowAsync(id) ?? throw EngineException.NotFound($"workflow {id}");
        var acts = await activities.GetActivitiesAsync(id);
        var children = await workflows.ListChildrenAsync(id);
        var events = await workflows.GetEventsAsync(id);
        var timeline = WorkflowTimeline.Build(wf, events, acts, children, time.EpochSeconds());
        await ctx.WriteAsync(200, w => Write(w, timeline));
    }

    static void Write(Utf8JsonWriter w, WorkflowTimeline t)
    {
        w.WriteStartObject();
        w.WriteString("workflow_id", t.WorkflowId);
        w.WriteString("status", t.Status);
        w.WriteNumber("start", t.Start);
        Number(w, "end", t.End);
        w.WriteNumber("now", t.Now);
        w.WriteStartArray("items");
        foreach (var i in t.Items) Write(w, i);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The common fields always; kind-specific ones only where they apply.</summary>
    static void Write(Utf8JsonWriter w, TimelineItem i)
    {
        w.WriteStartObject();
        w.WriteString("kind", i.Kind);
        w.WriteString("key", i.Key);
        w.WriteString("name", i.Name);
        w.WriteNumber("event_seq", i.EventSeq);
        w.WriteString("status", i.Status);
        w.WriteNumber("start", i.Start);
        Number(w, "end", i.End);
        if (i.Waiting is null) w.WriteNull("waiting"); else w.WriteString("waiting", i.Waiting);
        if (i.Error is null) w.WriteNull("error"); else w.WriteString("error", i.Error);
        switch (i.Kind)
        {
            case "activity":
                Number(w, "activity_id", i.ActivityId);
                w.WriteString("task_queue", i.TaskQueue);
                Number(w, "attempt", i.Attempt);
                Number(w, "max_attempts", i.MaxAttempts);
                w.WriteString("worker", i.Worker);
                Number(w, "attempt_started_at", i.AttemptStartedAt);
                Number(w, "next_attempt_at", i.NextAttemptAt);
                break;
            case "timer":
                Number(w, "fire_at", i.FireAt);
                Number(w, "duration_secs", i.DurationSecs);
                break;
            case "child":
                w.WriteString("child_workflow_id", i.ChildWorkflowId);
                w.WriteString("workflow_type", i.WorkflowType);
                w.WriteString("child_status", i.ChildStatus);
                break;
            default:
                w.WriteString("signal", i.Signal);
                break;
        }
        w.WriteEndObject();
    }

    static void Number(Utf8JsonWriter w, string name, double? v)
    {
        if (v is { } x) w.WriteNumber(name, x); else w.WriteNull(name);
    }

    static void Number(Utf8JsonWriter w, string name, long? v)
    {
        if (v is { } x) w.WriteNumber(name, x); else w.WriteNull(name);
    }
}
