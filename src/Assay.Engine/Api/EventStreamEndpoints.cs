using System.Threading.Channels;

namespace Assay.Engine.Api;

/// <summary>
/// <c>GET /api/v1/events/stream</c>: Server-Sent Events. Every appended history event is sent as
/// <c>event: workflow_event</c> with <c>id:</c> = its global event id (so <c>Last-Event-ID</c>
/// resumes without loss, also across engines sharing PostgreSQL, since events are read from the
/// store); every status change of a workflow as <c>event: status</c> (live only, from this
/// engine). Filters: <c>namespace</c>, <c>workflow_id</c>. Comment lines keep idle connections open.
/// All clients share one reader of the event table (<see cref="EventHub"/>); only a resuming client
/// reads the store itself, once, for what it missed.
/// </summary>
internal static class EventStreamEndpoints
{
    public static void Map(IEndpointRouteBuilder api, WorkflowEngine engine, TimeSpan keepAlive, IHostApplicationLifetime lifetime)
    {
        IEventStore events = engine.Store;
        var hub = new EventHub(events, engine.Store.BackendName, engine.Metrics, engine.Time, lifetime.ApplicationStopping);
        api.MapGet("/events/stream", async ctx =>
        {
            var ns = ctx.Query("namespace");
            var wf = ctx.Query("workflow_id");
            long? resume = null;
            if ((ctx.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } h ? h : ctx.Query("last_event_id")) is { } text)
            {
                if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    throw EngineException.Invalid("Last-Event-ID must be an event id");
                resume = id;
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, lifetime.ApplicationStopping);
            var ct = cts.Token;
            var statuses = Channel.CreateBounded<StatusChange>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
            void OnStatus(StatusChange c)
            {
                if ((ns is null || c.Namespace == ns) && (wf is null || c.WorkflowId == wf)) statuses.Writer.TryWrite(c);
            }
            events.StatusChanged += OnStatus;
            var (sub, position) = await hub.SubscribeAsync(ns, wf, ct);
            try
            {
                ctx.Response.StatusCode = 200;
                ctx.Response.ContentType = "text/event-stream";
                ctx.Response.Headers.CacheControl = "no-cache, no-store";
                ctx.Response.Headers["X-Accel-Buffering"] = "no";
                var sb = new StringBuilder("retry: 2000\n: connected\n\n");
                await FlushAsync(ctx, sb, ct);
                // Live events come from the hub (ids above `position`); a resuming client first reads what it
                // missed from the store, once. Nothing at or before the resume point (or the connect) is sent.
                var floor = resume ?? position;
                var caughtUp = resume is { } from ? await CatchUpAsync(ctx, events, engine.Metrics, sb, from, position, hub.Slack, ns, wf, ct) : [];
                await StreamLiveAsync(ctx, sb, sub, statuses, floor, caughtUp, keepAlive, engine.Time, ct);
            }
            catch (OperationCanceledException) { }
            catch (IOException) { }
            finally
            {
                events.StatusChanged -= OnStatus;
                hub.Unsubscribe(sub);
            }
        });
    }

    /// <summary>Sends the stored events in (from, upTo] that match; answers the ids sent within the slack window
    /// below <paramref name="upTo"/>, which the hub may deliver again (PostgreSQL's late-visible ids).</summary>
    static async Task<HashSet<long>> CatchUpAsync(HttpContext ctx, IEventStore events, Operations.EngineMetrics metrics, StringBuilder sb,
        long from, long upTo, int slack, string? ns, string? wf, CancellationToken ct)
    {
        var sent = new HashSet<long>();
        var after = from;
        while (after < upTo)
        {
            metrics.Inc(EventHub.ReadsMetric);
            var batch = await events.ReadEventStreamAsync(after, ns, wf, 500);
            foreach (var e in batch)
            {
                if (e.Id > upTo) break;
                AppendEvent(sb, e);
                if (e.Id > upTo - slack) sent.Add(e.Id);
                after = e.Id;
            }
            await FlushAsync(ctx, sb, ct);
            if (batch.Count < 500 || batch[^1].Id > upTo) break;
        }
        return sent;
    }

    static async Task StreamLiveAsync(HttpContext ctx, StringBuilder sb, EventHub.Subscriber sub, Channel<StatusChange> statuses,
        long floor, HashSet<long> caughtUp, TimeSpan keepAlive, TimeProvider time, CancellationToken ct)
    {
        var lastWrite = time.GetUtcNow();
        Task<bool>? events = null, changes = null; // one outstanding wait per channel
        while (!ct.IsCancellationRequested)
        {
            while (sub.Reader.TryRead(out var e))
                if (e.Id > floor && !caughtUp.Contains(e.Id)) AppendEvent(sb, e);
            while (statuses.Reader.TryRead(out var c))
                AppendStatus(sb, c);
            if (sb.Length == 0 && time.GetUtcNow() - lastWrite >= keepAlive) sb.Append(": keep-alive\n\n");
            if (sb.Length > 0)
            {
                await FlushAsync(ctx, sb, ct);
                lastWrite = time.GetUtcNow();
            }
            events ??= sub.Reader.WaitToReadAsync(ct).AsTask();
            changes ??= statuses.Reader.WaitToReadAsync(ct).AsTask();
            try { await Task.WhenAny(events, changes).WaitAsync(keepAlive, time, ct); }
            catch (TimeoutException) { }
            if (events.IsCompleted)
            {
                if (!await events) return; // cut off (too far behind) or shutting down: the client resumes by Last-Event-ID
                events = null;
            }
            if (changes.IsCompleted) changes = null;
        }
    }

    static void AppendEvent(StringBuilder sb, StreamEvent e) =>
        sb.Append("id: ").Append(e.Id.ToString(CultureInfo.InvariantCulture)).Append("\nevent: workflow_event\ndata: ")
            .Append(JsonSerializer.Serialize(e, EngineJsonContext.Wire.StreamEvent)).Append("\n\n");

    static void AppendStatus(StringBuilder sb, StatusChange c) =>
        sb.Append("event: status\ndata: ").Append(JsonSerializer.Serialize(c, EngineJsonContext.Wire.StatusChange)).Append("\n\n");

    static async Task FlushAsync(HttpContext ctx, StringBuilder sb, CancellationToken ct)
    {
        await ctx.Response.WriteAsync(sb.ToString(), ct);
        await ctx.Response.Body.FlushAsync(ct);
        sb.Clear();
    }
}
