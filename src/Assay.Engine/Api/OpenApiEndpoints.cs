namespace Assay.Engine.Api;

/// <summary>
/// <c>/api/v1/openapi.json</c>: an OpenAPI 3.1 document generated from the live route table (every
/// mapped endpoint, so it cannot drift from the code), and <c>/api/v1/docs</c>: a self-contained page
/// that renders it (nothing loaded from a CDN). Written with Utf8JsonWriter: no reflection, AOT-clean.
/// </summary>
internal static class OpenApiEndpoints
{
    static readonly Dictionary<string, string> Summaries = new()
    {
        ["GET /api/v1/health"] = "Liveness (anonymous)",
        ["GET /api/v1/version"] = "Version, build profile and backend (anonymous)",
        ["GET /api/v1/openapi.json"] = "This document (anonymous)",
        ["GET /api/v1/docs"] = "API documentation page (anonymous)",
        ["POST /api/v1/workflows"] = "Start a workflow (priority 1 = highest … 5, default 3)",
        ["GET /api/v1/workflows"] = "List workflows (namespace, status, type, search_attrs, limit, offset; each with no_worker_for_type, unserved)",
        ["GET /api/v1/workflows/{id}"] = "Describe a workflow (no_worker_for_type and unserved: waiting tasks whose type no live worker registered)",
        ["GET /api/v1/workflows/{id}/events"] = "Event history (since_seq)",
        ["GET /api/v1/workflows/{id}/children"] = "Child workflows",
        ["GET /api/v1/workflows/{id}/timeline"] =
            "The run as spans on a time axis: activities (attempts, last error), timers, children, signal waits and signals; open spans say what they wait for",
        ["POST /api/v1/workflows/{id}/signal/{name}"] = "Send a signal",
        ["POST /api/v1/workflows/{id}/cancel"] = "Request cooperative cancellation",
        ["POST /api/v1/workflows/{id}/terminate"] = "Terminate immediately",
        ["POST /api/v1/workflows/{id}/continue-as-new"] = "Continue as a new run",
        ["GET /api/v1/workflows/{id}/state"] = "Latest query snapshot",
        ["GET /api/v1/workflows/{id}/state/{name}"] = "One value of the latest snapshot",
        ["POST /api/v1/workflows/{id}/activities"] = "Schedule an activity directly (priority: the workflow's unless set)",
        ["GET /api/v1/activities/{id}"] = "Activity record",
        ["POST /api/v1/workflow-tasks/poll"] = "Claim a workflow task (long-poll with wait_secs; workflow_types: only these types)",
        ["POST /api/v1/workflow-tasks/{id}/commands"] =
            "Submit a command batch and release the lease (eager_activities, activity_types; commands: ScheduleActivity, ScheduleTimer, RecordSideEffect, RecordPatchMarker, StartChildWorkflow, UpsertSearchAttributes, RecordSnapshot, WaitForSignal, ContinueAsNew, CompleteWorkflow, FailWorkflow, CancelWorkflow)",
        ["POST /api/v1/workflow-tasks/{id}/heartbeat"] = "Extend a workflow-task lease",
        ["POST /api/v1/workflow-tasks/{id}/release"] =
            "Hand a workflow task back untouched (worker_id, lease_token; backoff_secs, reason shutdown|unhandled_type)",
        ["POST /api/v1/tasks/poll"] = "Claim an activity task (long-poll with wait_secs; activity_types: only these names)",
        ["POST /api/v1/tasks/{id}/complete"] = "Complete an activity attempt (eager_workflow_task, workflow_types: take the workflow task it creates)",
        ["POST /api/v1/tasks/{id}/fail"] = "Fail an activity attempt (retry policy applies; eager_workflow_task as for complete)",
        ["POST /api/v1/tasks/{id}/heartbeat"] = "Activity heartbeat (answers cancel_requested)",
        ["POST /api/v1/tasks/{id}/release"] =
            "Hand an activity back untouched, attempt not counted (worker_id, attempt; backoff_secs, reason shutdown|unhandled_type)",
        ["POST /api/v1/workers/register"] = "Register a worker (workflows, activities: the types it serves; absent = any)",
        ["POST /api/v1/workers/heartbeat"] = "Worker heartbeat",
        ["GET /api/v1/workers"] = "List workers",
        ["POST /api/v1/namespaces"] = "Create a namespace",
        ["GET /api/v1/namespaces"] = "List namespaces",
        ["GET /api/v1/namespaces/{name}"] = "Namespace statistics",
        ["PATCH /api/v1/namespaces/{name}"] = "Set retention_secs",
        ["DELETE /api/v1/namespaces/{name}"] = "Delete an empty namespace",
        ["GET /api/v1/queues"] = "Task-queue statistics (with each queue's max_activities_per_second)",
        ["GET /api/v1/queues/{name}"] = "Queue settings: max_activities_per_second (null = no limit)",
        ["PUT /api/v1/queues/{name}"] =
            "Set queue settings: max_activities_per_second (> 0, enforced across workers and engines; absent or null clears it)",
        ["POST /api/v1/schedules"] = "Create a schedule",
        ["GET /api/v1/schedules"] = "List schedules",
        ["GET /api/v1/schedules/{name}"] = "Describe a schedule",
        ["PATCH /api/v1/schedules/{name}"] = "Change a schedule",
        ["DELETE /api/v1/schedules/{name}"] = "Delete a schedule",
        ["POST /api/v1/schedules/{name}/pause"] = "Pause a schedule",
        ["POST /api/v1/schedules/{name}/resume"] = "Resume a schedule (next_run_at from now)",
        ["POST /api/v1/schedules/{name}/trigger"] = "Run a schedule now (overlap policy applies)",
        ["POST /api/v1/schedules/{name}/backfill"] = "Start the occurrences of a past range",
        ["POST /api/v1/api-keys"] = "Create an API key (plaintext answered once)",
        ["GET /api/v1/api-keys"] = "List API keys",
        ["DELETE /api/v1/api-keys/{prefix}"] = "Revoke an API key",
        ["GET /api/v1/events/stream"] = "Live events (Server-Sent Events; namespace, workflow_id, Last-Event-ID)",
        ["GET /metrics"] = "Prometheus metrics",
    };

    public static void Map(IEndpointRouteBuilder open, IEndpointRouteBuilder root, string version)
    {
        open.MapGet("/openapi.json", ctx =>
        {
            var endpoints = root.DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
                .Where(e => e.RoutePattern.RawText is { } t && (t.StartsWith(Routes.Prefix) || t == "/metrics"))
                .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Path: e.RoutePattern, Method: m)))
                .GroupBy(x => x.Path.RawText!).OrderBy(g => g.Key, StringComparer.Ordinal);
            return ctx.WriteAsync(200, w =>
            {
                w.WriteStartObject();
                w.WriteString("openapi", "3.1.0");
                w.WriteStartObject("info");
                w.WriteString("title", "Assay workflow engine");
                w.WriteString("version", version);
                w.WriteString("description", Description);
                w.WriteEndObject();
                w.WriteStartObject("components");
                w.WriteStartObject("securitySchemes");
                w.WriteStartObject("bearer");
                w.WriteString("type", "http");
                w.WriteString("scheme", "bearer");
                w.WriteString("description", "An API key (assay_…) or a JWT from the configured issuer, when authentication is on");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteStartObject("paths");
                foreach (var g in endpoints)
                {
                    w.WriteStartObject(g.Key);
                    foreach (var (pattern, method) in g.OrderBy(x => x.Method, StringComparer.Ordinal))
                    {
                        w.WriteStartObject(method.ToLowerInvariant());
                        var key = method + " " + g.Key;
                        w.WriteString("summary", Summaries.GetValueOrDefault(key, key));
                        w.WriteString("operationId", OperationId(method, g.Key));
                        w.WriteStartArray("parameters");
                        foreach (var p in pattern.Parameters)
                        {
                            w.WriteStartObject();
                            w.WriteString("name", p.Name);
                            w.WriteString("in", "path");
                            w.WriteBoolean("required", true);
                            w.WriteStartObject("schema");
                            if (IsIntegerId(g.Key, p.Name))
                                w.WriteString("type", "integer");
                            else
                            {
                                w.WriteString("type", "string");
                                w.WriteNumber("minLength", 1);
                                w.WriteNumber("maxLength", Limits.MaxIdBytes);
                                w.WriteString("pattern", "^[^/]+$");
                            }
                            w.WriteEndObject();
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        if (method is "POST" or "PATCH" or "PUT")
                        {
                            w.WriteStartObject("requestBody");
                            w.WriteBoolean("required", false);
                            w.WriteStartObject("content");
                            w.WriteStartObject("application/json");
                            w.WriteStartObject("schema");
                            w.WriteString("type", "object");
                            w.WriteEndObject();
                            w.WriteEndObject();
                            w.WriteEndObject();
                            w.WriteEndObject();
                        }
                        w.WriteStartObject("responses");
                        w.WriteStartObject("200");
                        w.WriteString("description", "Success (creations answer 201)");
                        w.WriteEndObject();
                        w.WriteStartObject("503");
                        w.WriteString("description", "Database unavailable; retry after the Retry-After seconds");
                        w.WriteEndObject();
                        w.WriteStartObject("default");
                        w.WriteString("description", "Error: {\"error\": \"<message>\"}");
                        w.WriteEndObject();
                        w.WriteEndObject();
                        w.WriteStartArray("security");
                        if (Routes.IsGuarded(g.Key.Split('{')[0]))
                        {
                            w.WriteStartObject();
                            w.WriteStartArray("bearer");
                            w.WriteEndArray();
                            w.WriteEndObject();
                        }
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            });
        });

        open.MapGet("/docs", ctx =>
        {
            ctx.Response.ContentType = "text/html; charset=utf-8";
            return ctx.Response.WriteAsync(DocsPage);
        });
    }

    /// <summary>Activity ids are integers; every other path parameter is an id or name.</summary>
    static bool IsIntegerId(string path, string parameter) =>
        parameter == "id" && (path.StartsWith(Routes.Prefix + "/activities/") || path.StartsWith(Routes.Prefix + "/tasks/"));

    const string Description =
        "Errors are {\"error\": \"<message>\"}: 400 invalid input, 404 unknown id or route, 405 wrong method, " +
        "409 conflict (duplicate id, finished workflow, lease not held or its lease_token missing), 413 body over the limit, " +
        "414 path and query over 8 KiB, 503 database unavailable (with Retry-After). " +
        "Limits: ids and names in paths (workflow_id, namespace, schedule and signal names) 1-255 UTF-8 bytes without '/', " +
        "control characters, '.' or '..'; durations at most 100 years (3162240000 s); times 0-253402300799 epoch seconds; " +
        "wait_secs 0-30; priority 1-5 (1 first; what a workflow schedules inherits its priority); " +
        "max_activities_per_second above 0, at most 1000000. Task reports on a claim made with require_lease_token (or on an engine run with " +
        "--require-lease-token) must carry the claim's lease_token.";

    static string OperationId(string method, string path)
    {
        var parts = path.Replace(Routes.Prefix, "").Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Trim('{', '}').Replace("-", "_").Replace(".", "_"));
        return method.ToLowerInvariant() + "_" + string.Join("_", parts);
    }

    const string DocsPage = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Assay workflow engine — API</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        :root{color-scheme:light dark;--b:#d0d4da;--m:#666}
        body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem}
        h1{font-size:1.4rem} .op{border:1px solid var(--b);border-radius:6px;margin:.4rem 0;padding:.4rem .7rem}
        .m{display:inline-block;min-width:4.5rem;font-weight:600;font-family:monospace} code{font-size:.95em}
        .s{color:var(--m)} .lock{float:right;color:var(--m);font-size:.85em}
        .GET{color:#1a7f37}.POST{color:#0969da}.PATCH,.PUT{color:#9a6700}.DELETE{color:#cf222e}
        </style></head><body>
        <h1>Assay workflow engine — REST API</h1>
        <p class="s">Generated from the running engine's route table: <a href="openapi.json">openapi.json</a>.
        Times are float seconds since the Unix epoch; errors are <code>{"error": "…"}</code>.</p>
        <div id="ops">Loading…</div>
        <script>
        fetch('openapi.json').then(r => r.json()).then(doc => {
          const ops = document.getElementById('ops'); ops.textContent = '';
          document.title = doc.info.title + ' ' + doc.info.version;
          for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
            const d = document.createElement('div'); d.className = 'op';
            const m = document.createElement('span'); m.className = 'm ' + method.toUpperCase(); m.textContent = method.toUpperCase();
            const p = document.createElement('code'); p.textContent = path;
            const s = document.createElement('div'); s.className = 's'; s.textContent = op.summary;
            if (op.security && op.security.length) { const l = document.createElement('span'); l.className = 'lock'; l.textContent = 'auth'; d.append(l); }
            d.append(m, p, s); ops.append(d);
          }
        }).catch(e => { document.getElementById('ops').textContent = 'Could not load openapi.json: ' + e; });
        </script></body></html>
        """;
}
