namespace Assay.Engine.Core;

/// <summary>
/// The run of a workflow as spans on a time axis (docs/engine.md "Timeline"), for the dashboard's timeline view:
/// activities, timers, child workflows, signal waits and received signals. Built from what the engine already keeps
/// — the history (when each thing began and ended) and the activity and child records (live state the history does
/// not hold: the current attempt, its worker, the last error of a retried attempt, a child's status) — so a page
/// does not have to replay the history itself. A span whose <see cref="TimelineItem.End"/> is null is still open;
/// its <see cref="TimelineItem.Waiting"/> says what it waits for.
/// </summary>
public sealed class WorkflowTimeline
{
    public required string WorkflowId { get; init; }
    public required string Status { get; init; }
    public double Start { get; init; }
    public double? End { get; init; }
    /// <summary>The engine's time when the timeline was built: where open spans end for now.</summary>
    public double Now { get; init; }
    public required IReadOnlyList<TimelineItem> Items { get; init; }

    public static WorkflowTimeline Build(WorkflowRecord wf, IReadOnlyList<EventRecord> events,
        IReadOnlyList<ActivityRecord> activities, IReadOnlyList<WorkflowRecord> children, double now)
    {
        var b = new Builder(wf, activities, children, now);
        foreach (var e in events) b.Add(e);
        return new WorkflowTimeline
        {
            WorkflowId = wf.Id, Status = wf.Status, Start = wf.CreatedAt, End = wf.CompletedAt, Now = now,
            Items = b.Finish(),
        };
    }

    /// <summary>One pass over the history, oldest first; open spans are closed by later events or by the run's end.</summary>
    sealed class Builder(WorkflowRecord wf, IReadOnlyList<ActivityRecord> activities, IReadOnlyList<WorkflowRecord> children, double now)
    {
        readonly List<TimelineItem> _items = [];
        readonly Dictionary<long, TimelineItem> _activities = [];
        readonly Dictionary<long, TimelineItem> _timers = [];
        readonly Dictionary<string, TimelineItem> _children = new(StringComparer.Ordinal);
        readonly Dictionary<string, TimelineItem> _signalWaits = new(StringComparer.Ordinal);
        double? _cancelRequestedAt;

        public void Add(EventRecord e)
        {
            switch (e.EventType)
            {
                case EventType.ActivityScheduled:
                    Open(e, "activity", p => { var seq = Long(p, "activity_seq"); return (seq, $"activity-{seq}", Str(p, "name") ?? "activity"); },
                        _activities, (item, p) => { item.TaskQueue = Str(p, "task_queue"); item.ActivityId = Long(p, "activity_id"); });
                    break;
                case EventType.ActivityCompleted:
                    Close(_activities, e, p => Long(p, "activity_seq"), ActivityStatus.Completed, (_, _) => { });
                    break;
                case EventType.ActivityFailed:
                    Close(_activities, e, p => Long(p, "activity_seq"), ActivityStatus.Failed, (item, p) => item.Error = Str(p, "error"));
                    break;
                case EventType.TimerScheduled:
                    Open(e, "timer", p => { var seq = Long(p, "timer_seq"); return (seq, $"timer-{seq}", $"timer {Secs(Dbl(p, "duration_secs"))}"); },
                        _timers, (item, p) => { item.FireAt = Dbl(p, "fire_at"); item.DurationSecs = Dbl(p, "duration_secs"); });
                    break;
                case EventType.TimerFired:
                    Close(_timers, e, p => Long(p, "timer_seq"), "FIRED", (_, _) => { });
                    break;
                case EventType.ChildWorkflowStarted:
                    Open(e, "child", p => { var id = Str(p, "child_workflow_id") ?? ""; return (id, $"child-{id}", id); },
                        _children, (item, p) => { item.ChildWorkflowId = Str(p, "child_workflow_id"); item.WorkflowType = Str(p, "workflow_type"); });
                    break;
                case EventType.ChildWorkflowCompleted:
                    Close(_children, e, p => Str(p, "child_workflow_id") ?? "", WorkflowStatus.Completed, (_, _) => { });
                    break;
                case EventType.ChildWorkflowFailed:
                    ChildFailed(e);
                    break;
                case EventType.WorkflowAwaitingSignal:
                    Open(e, "signal_wait", p => { var name = Str(p, "signal") ?? ""; return (name, $"wait-{e.Seq}", name); },
                        _signalWaits, (item, p) => item.Signal = item.Name);
                    break;
                case EventType.SignalReceived:
                    SignalReceived(e);
                    break;
                case EventType.WorkflowCancelRequested:
                    _cancelRequestedAt ??= e.Timestamp;
                    break;
            }
        }

        /// <summary>Starts a span, kept under its key in <paramref name="open"/> until the event that ends it.</summary>
        void Open<TKey>(EventRecord e, string kind, Func<JsonElement, (TKey Key, string Id, string Name)> identify,
            Dictionary<TKey, TimelineItem> open, Action<TimelineItem, JsonElement> details) where TKey : notnull
        {
            using var doc = Parse(e.Payload);
            var p = doc?.RootElement ?? default;
            var (key, id, name) = identify(p);
            // A replay never schedules twice; a new wait for a signal starts a new span once the previous one ended.
            if (open.TryGetValue(key, out var existing) && (kind != "signal_wait" || existing.End is null)) return;
            var item = new TimelineItem { Kind = kind, Key = id, Name = name, EventSeq = e.Seq, Start = e.Timestamp, Status = "PENDING" };
            details(item, p);
            open[key] = item;
            _items.Add(item);
        }

        void Close<TKey>(Dictionary<TKey, TimelineItem> open, EventRecord e, Func<JsonElement, TKey> keyOf, string status,
            Action<TimelineItem, JsonElement> details) where TKey : notnull
        {
            using var doc = Parse(e.Payload);
            var p = doc?.RootElement ?? default;
            if (!open.TryGetValue(keyOf(p), out var item) || item.End is not null) return;
            item.End = e.Timestamp;
            item.Status = status;
            details(item, p);
        }

        void ChildFailed(EventRecord e)
        {
            using var doc = Parse(e.Payload);
            var p = doc?.RootElement ?? default;
            var id = Str(p, "child_workflow_id") ?? "";
            var reason = Str(p, "reason");
            // A child that could not start (its id taken) has no ChildWorkflowStarted: a zero-length span says so.
            if (!_children.TryGetValue(id, out var item))
            {
                item = new TimelineItem { Kind = "child", Key = $"child-{id}", Name = id, ChildWorkflowId = id, EventSeq = e.Seq, Start = e.Timestamp };
                _children[id] = item;
                _items.Add(item);
            }
            if (item.End is not null) return;
            item.End = e.Timestamp;
            item.Error = Str(p, "error");
            item.Status = reason switch { "cancelled" => WorkflowStatus.Cancelled, "terminated" => "TERMINATED", "already_exists" => "NOT_STARTED", _ => WorkflowStatus.Failed };
        }

        /// <summary>A received signal is a point; it also ends the open wait for that name, if any.</summary>
        void SignalReceived(EventRecord e)
        {
            using var doc = Parse(e.Payload);
            var name = Str(doc?.RootElement ?? default, "signal") ?? "";
            _items.Add(new TimelineItem
            {
                Kind = "signal", Key = $"signal-{e.Seq}", Name = name, Signal = name, EventSeq = e.Seq,
                Start = e.Timestamp, End = e.Timestamp, Status = "RECEIVED",
            });
            if (_signalWaits.TryGetValue(name, out var wait) && wait.End is null)
            {
                wait.End = e.Timestamp;
                wait.Status = "RECEIVED";
            }
        }

        public IReadOnlyList<TimelineItem> Finish()
        {
            var activityById = activities.ToDictionary(a => a.Seq);
            foreach (var (seq, item) in _activities)
                if (activityById.TryGetValue(seq, out var a)) ApplyActivity(item, a);
            var childById = children.ToDictionary(c => c.Id, StringComparer.Ordinal);
            foreach (var item in _children.Values) ApplyChild(item, childById);
            foreach (var item in _items.Where(i => i.End is null)) FinishOpen(item);
            return _items.OrderBy(i => i.Start).ThenBy(i => i.EventSeq).ToList();
        }

        /// <summary>Live state of an activity from its record: attempts, the last error (kept on retries, which record
        /// no event), the running attempt and its worker, or the backoff before the next attempt.</summary>
        void ApplyActivity(TimelineItem item, ActivityRecord a)
        {
            item.ActivityId = a.Id;
            item.TaskQueue = a.TaskQueue;
            item.Attempt = a.Attempt;
            item.MaxAttempts = a.MaxAttempts;
            item.Error ??= a.Error;
            // The latest attempt that started (the running one, or the one that ended the activity) and its worker.
            item.Worker = a.StartedAt is null ? null : a.ClaimedBy;
            item.AttemptStartedAt = a.StartedAt;
            if (item.End is not null) return;
            item.Status = a.Status;
            if (a.Status == ActivityStatus.Running)
                item.Waiting = "attempt";
            else if (a.Status == ActivityStatus.Pending)
            {
                // A retry waits out its backoff (scheduled_at is the due time); a first attempt waits for a worker.
                item.NextAttemptAt = a.ScheduledAt;
                item.Waiting = a.ScheduledAt > now ? "retry" : "worker";
            }
            else if (a.CompletedAt is { } at)
                item.End = at; // cancelled with its workflow: no event, but the record knows when
        }

        /// <summary>A child still running: its live status, following continue-as-new to the run that carries on.</summary>
        static void ApplyChild(TimelineItem item, Dictionary<string, WorkflowRecord> byId)
        {
            if (item.End is not null) return;
            if (!byId.TryGetValue(item.ChildWorkflowId ?? "", out var run)) return;
            for (var hops = 0; run.ContinuedTo is { } next && byId.TryGetValue(next, out var later) && hops < 1000; hops++) run = later;
            item.ChildStatus = run.Status;
            item.Status = WorkflowStatus.IsTerminal(run.Status) && run.ContinuedTo is null ? run.Status : WorkflowStatus.Running;
            item.Waiting = "child";
        }

        /// <summary>What an open span waits for. When the run is over (or, for a timer, being cancelled) the span ended
        /// then without its outcome: the engine cancelled the activity or timer, the signal never came, and a child
        /// (cancelled or terminated with its parent, or left running) shows its own status.</summary>
        void FinishOpen(TimelineItem item)
        {
            var cancelledAt = item.Kind == "timer" && _cancelRequestedAt >= item.Start ? _cancelRequestedAt : null;
            if (wf.CompletedAt is not null || cancelledAt is not null)
            {
                item.End = cancelledAt ?? wf.CompletedAt;
                item.Waiting = null;
                item.Status = item.Kind switch
                {
                    "signal_wait" => "NOT_RECEIVED",
                    "child" => item.ChildStatus ?? "UNKNOWN",
                    _ => WorkflowStatus.Cancelled,
                };
                return;
            }
            item.Waiting ??= item.Kind switch { "timer" => "fire", "signal_wait" => "signal", "child" => "child", _ => "worker" };
            if (item.Kind == "signal_wait") item.Status = "WAITING";
        }

        static JsonDocument? Parse(string? payload)
        {
            if (payload is null) return null;
            try { return JsonDocument.Parse(payload); }
            catch (JsonException) { return null; }
        }

        static string? Str(JsonElement p, string name) =>
            p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        static double? Dbl(JsonElement p, string name) =>
            p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

        static long Long(JsonElement p, string name) => (long)(Dbl(p, name) ?? 0);

        static string Secs(double? s) => s is { } v ? $"{v:0.###} s" : "";
    }
}

/// <summary>One span of <see cref="WorkflowTimeline"/>. Kind-specific fields are null where they do not apply.</summary>
public sealed class TimelineItem
{
    /// <summary>activity, timer, child, signal_wait (the workflow waiting for a signal) or signal (received; a point).</summary>
    public required string Kind { get; init; }
    /// <summary>Stable within the run: activity-&lt;seq&gt;, timer-&lt;seq&gt;, child-&lt;id&gt;, wait-&lt;event seq&gt;, signal-&lt;event seq&gt;.</summary>
    public required string Key { get; init; }
    /// <summary>Activity name, timer duration, child id or signal name.</summary>
    public required string Name { get; init; }
    /// <summary>Sequence number of the event that began the span.</summary>
    public long EventSeq { get; init; }
    public double Start { get; init; }
    public double? End { get; set; }
    public string Status { get; set; } = "PENDING";
    /// <summary>For an open span: worker (not claimed yet), retry (backoff before the next attempt), attempt (running),
    /// fire (a timer), child (a child run), signal (a signal wait). Null once the span ended.</summary>
    public string? Waiting { get; set; }
    public string? Error { get; set; }

    // activity
    public long? ActivityId { get; set; }
    public string? TaskQueue { get; set; }
    public long? Attempt { get; set; }
    public long? MaxAttempts { get; set; }
    /// <summary>The latest attempt that started — running, or the one that ended the activity — and its worker.</summary>
    public string? Worker { get; set; }
    public double? AttemptStartedAt { get; set; }
    public double? NextAttemptAt { get; set; }
    // timer
    public double? FireAt { get; set; }
    public double? DurationSecs { get; set; }
    // child
    public string? ChildWorkflowId { get; set; }
    public string? WorkflowType { get; set; }
    public string? ChildStatus { get; set; }
    // signal, signal_wait
    public string? Signal { get; set; }
}
