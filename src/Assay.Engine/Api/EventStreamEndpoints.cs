using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Assay.Engine.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Assay.Engine.Api;

/// <summary>
/// <c>GET /api/v1/events/stream</c>: Server-Sent Events. Every appended history event is sent as
/// <c>event: workflow_event</c> with <c>id:</c> = its global event id (so <c>Last-Event-ID</c>
/// resumes without loss, also across engines sharing PostgreSQL, since events are read from the
/// store); every status change of a workflow as <c>event: status</c> (live only, from this
/// engine). Filters: <c>namespace</c>, <c>workflow_id</c>. Comment lines keep idle connections open.
/// </summary>
internal static class EventStreamEndpoints
{
    public static void Map(IEndpointRouteBuilder api, WorkflowEngine engine, TimeSpan keepAlive, IHostApplicationLifetime lifetime)
    {
        api.MapGet("/events/stream", async ctx =>
        {
            var ns = ctx.Query("namespace");
            var wf = ctx.Query("workflow_id");
            var store = engine.Store;
            long cursor;
            var resume = ctx.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } h ? h : ctx.Query("last_event_id");
            if (resume is not null)
            {
                if (!long.TryParse(resume, NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
                    throw EngineException.Invalid("Last-Event-ID must be an event id");
            }
            else cursor = await store.MaxEventIdAsync();

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, lifetime.ApplicationStopping);
            var ct = cts.Token;
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "text/event-stream";
            ctx.Response.Headers.CacheControl = "no-cache, no-store";
            ctx.Response.Headers["X-Accel-Buffering"] = "no";

            var statuses = Channel.CreateBounded<StatusChange>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
            void OnStatus(StatusChange c)
            {
                if ((ns is null || c.Namespace == ns) && (wf is null || c.WorkflowId == wf)) statuses.Writer.TryWrite(c);
            }
            store.StatusChanged += OnStatus;
            // PostgreSQL hands out ids before commit, so a smaller id may become visible after a larger one:
            // re-read a small window behind the cursor and skip what was sent.
            var slack = store.BackendName == "postgres" ? 200 : 0;
            var sent = new HashSet<long>();
            var floor = cursor; // never anything at or before the resume point
            var sb = new StringBuilder();
            try
            {
                sb.Append("retry: 2000\n: connected\n\n");
                await FlushAsync(ctx, sb, ct);
                var lastWrite = DateTime.UtcNow;
                while (!ct.IsCancellationRequested)
                {
                    var appended = store.EventsAppended.Next;
                    while (true)
                    {
                        var batch = await store.ReadEventStreamAsync(Math.Max(floor, cursor - slack), ns, wf, 500);
                        foreach (var e in batch)
                        {
                            if (e.Id <= floor || (slack > 0 && (e.Id <= cursor - slack || !sent.Add(e.Id)))) continue;
                            sb.Append("id: ").Append(e.Id.ToString(CultureInfo.InvariantCulture)).Append("\nevent: workflow_event\ndata: ")
                                .Append(EventJson(e)).Append("\n\n");
                            if (e.Id > cursor) cursor = e.Id;
                        }
                        if (batch.Count < 500) break;
                    }
                    if (slack > 0 && sent.Count > 4 * slack) sent.RemoveWhere(id => id <= cursor - slack);
                    while (statuses.Reader.TryRead(out var c))
                        sb.Append("event: status\ndata: ").Append(StatusJson(c)).Append("\n\n");
                    if (sb.Length == 0 && DateTime.UtcNow - lastWrite >= keepAlive) sb.Append(": keep-alive\n\n");
                    if (sb.Length > 0)
                    {
                        await FlushAsync(ctx, sb, ct);
                        lastWrite = DateTime.UtcNow;
                    }
                    var wait = keepAlive < TimeSpan.FromSeconds(1) ? keepAlive : TimeSpan.FromSeconds(1); // 1 s: events from other engines
                    try
                    {
                        await Task.WhenAny(appended, statuses.Reader.WaitToReadAsync(ct).AsTask()).WaitAsync(wait, ct);
                    }
                    catch (TimeoutException) { }
                }
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
            finally
            {
                store.StatusChanged -= OnStatus;
            }
        });
    }

    static async Task FlushAsync(HttpContext ctx, StringBuilder sb, CancellationToken ct)
    {
        await ctx.Response.WriteAsync(sb.ToString(), ct);
        await ctx.Response.Body.FlushAsync(ct);
        sb.Clear();
    }

    static string EventJson(StreamEvent e) => JsonText.Build(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("id", e.Id);
        w.WriteString("workflow_id", e.WorkflowId);
        w.WriteString("namespace", e.Namespace);
        w.WriteString("workflow_type", e.WorkflowType);
        w.WriteNumber("seq", e.Seq);
        w.WriteString("event_type", e.EventType);
        w.WriteRawOrNull("payload", e.Payload);
        w.WriteNumber("timestamp", e.Timestamp);
        w.WriteString("status", e.Status);
        w.WriteEndObject();
    });

    static string StatusJson(StatusChange c) => JsonText.Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("workflow_id", c.WorkflowId);
        w.WriteString("namespace", c.Namespace);
        w.WriteString("workflow_type", c.WorkflowType);
        w.WriteString("status", c.Status);
        w.WriteNumber("timestamp", c.Timestamp);
        w.WriteEndObject();
    });
}
