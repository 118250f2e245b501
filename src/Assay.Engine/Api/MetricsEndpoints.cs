namespace Assay.Engine.Api;

/// <summary><c>GET /metrics</c>: Prometheus text. Behind authentication when it is on (scrapers send a bearer key).</summary>
internal static class MetricsEndpoints
{
    public static void Map(IEndpointRouteBuilder app, WorkflowEngine engine)
    {
        IRegistryStore registry = engine.Store;

        app.MapGet("/metrics", async ctx =>
        {
            var gauges = new List<(string, string, (string, string)[], double)>();
            foreach (var ns in await registry.ListNamespacesAsync())
                foreach (var q in await registry.GetQueueStatsAsync(ns.Name))
                {
                    (string, string)[] l = [("namespace", ns.Name), ("queue", q.Queue)];
                    gauges.Add(("assay_task_queue_pending_activities", "Activities waiting for a worker.", l, q.PendingActivities));
                    gauges.Add(("assay_task_queue_running_activities", "Activities being worked on.", l, q.RunningActivities));
                    gauges.Add(("assay_task_queue_pending_workflow_tasks", "Workflows waiting for a worker to replay them.", l, q.PendingWorkflowTasks));
                    gauges.Add(("assay_task_queue_workers", "Workers registered on the queue.", l, q.Workers));
                }
            foreach (var u in await registry.CountUnservedTasksAsync())
                gauges.Add(("assay_pending_tasks_without_worker",
                    "Waiting tasks whose type no live worker on the queue registered (type-aware dispatch: they wait for one).",
                    [("namespace", u.Namespace), ("queue", u.TaskQueue), ("kind", u.Kind), ("type", u.Name)], u.Count));
            gauges.Add(("assay_scheduler_leader", "1 when this engine holds the scheduler lease.", [], engine.IsLeader ? 1 : 0));
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await ctx.Response.WriteAsync(engine.Metrics.Render(gauges), Encoding.UTF8, ctx.RequestAborted);
        });
    }
}
