using System.Threading.Channels;

namespace Assay.Engine.Api;

/// <summary>
/// One reader of the event table for every event-stream client: when events are appended (or once a
/// second, for other engines sharing PostgreSQL) it reads what is new once and hands each event to the
/// subscribers whose filter matches. Without it every client ran its own query per append, and a few
/// hundred idle dashboards slowed every workflow start twentyfold.
/// <para>A subscriber that falls more than <see cref="SubscriberBuffer"/> events behind is dropped (its
/// stream ends); the client reconnects with <c>Last-Event-ID</c> and catches up from the store.</para>
/// </summary>
internal sealed class EventHub(IEventStore store, string backendName, Operations.EngineMetrics metrics, TimeProvider time,
    CancellationToken stopping)
{
    /// <summary>Events a subscriber may have queued before it is cut off.</summary>
    public const int SubscriberBuffer = 10_000;

    const int BatchSize = 500;

    public const string ReadsMetric = "assay_event_stream_reads_total";

    readonly SemaphoreSlim _gate = new(1, 1); // held while reading+dispatching and while subscribing
    readonly List<Subscriber> _subscribers = [];
    readonly Pulse _subscribed = new();
    // PostgreSQL hands out ids before commit, so a smaller id may become visible after a larger one:
    // re-read a small window behind the cursor and skip what was dispatched.
    readonly int _slack = backendName == "postgres" ? 200 : 0;
    readonly HashSet<long> _dispatched = [];
    long? _cursor; // highest id dispatched; null while nobody listens (re-read from the store on the next subscribe)
    Task? _loop;

    public int Slack => _slack;

    public sealed class Subscriber(string? ns, string? workflowId)
    {
        internal readonly Channel<StreamEvent> Events =
            Channel.CreateBounded<StreamEvent>(new BoundedChannelOptions(SubscriberBuffer) { SingleReader = true, SingleWriter = true });

        public ChannelReader<StreamEvent> Reader => Events.Reader;

        internal bool Wants(StreamEvent e) => (ns is null || e.Namespace == ns) && (workflowId is null || e.WorkflowId == workflowId);
    }

    /// <summary>Registers a subscriber. Every event with an id above the returned position reaches it (when its filter
    /// matches); what lies at or below is the caller's to read from the store.</summary>
    public async Task<(Subscriber Subscriber, long Position)> SubscribeAsync(string? ns, string? workflowId, CancellationToken ct)
    {
        var s = new Subscriber(ns, workflowId);
        await _gate.WaitAsync(ct);
        try
        {
            _cursor ??= await store.MaxEventIdAsync();
            lock (_subscribers) _subscribers.Add(s);
            _loop ??= Task.Run(RunAsync, CancellationToken.None);
            _subscribed.Fire();
            return (s, _cursor.Value);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Unsubscribe(Subscriber s)
    {
        lock (_subscribers) _subscribers.Remove(s);
        s.Events.Writer.TryComplete();
    }

    async Task RunAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            var appended = store.EventsAppended.Next;
            var subscribed = _subscribed.Next;
            try
            {
                await ReadAndDispatchAsync();
                int count;
                lock (_subscribers) count = _subscribers.Count;
                // Idle without listeners (no queries at all); otherwise wake on appends, and every second for other engines.
                await (count == 0 ? subscribed : appended).WaitAsync(count == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(1), time, stopping);
            }
            catch (TimeoutException) { }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { break; }
            catch (Exception) when (!stopping.IsCancellationRequested)
            {
                // The store is unreachable for a moment: subscribers keep their streams; try again shortly.
                try { await Task.Delay(TimeSpan.FromSeconds(1), time, stopping); } catch (OperationCanceledException) { break; }
            }
        }
        lock (_subscribers)
        {
            foreach (var s in _subscribers) s.Events.Writer.TryComplete();
            _subscribers.Clear();
        }
    }

    async Task ReadAndDispatchAsync()
    {
        await _gate.WaitAsync(stopping);
        try
        {
            Subscriber[] targets;
            lock (_subscribers) targets = [.. _subscribers];
            if (targets.Length == 0)
            {
                _cursor = null; // nobody listens: stop reading; the next subscriber starts from the newest event
                _dispatched.Clear();
                return;
            }
            var cursor = _cursor!.Value;
            var floor = cursor - _slack;
            while (true)
            {
                metrics.Inc(ReadsMetric);
                var batch = await store.ReadEventStreamAsync(floor, null, null, BatchSize);
                foreach (var e in batch)
                {
                    floor = Math.Max(floor, e.Id);
                    if (_slack > 0 ? !_dispatched.Add(e.Id) || e.Id <= _cursor - _slack : e.Id <= cursor) continue;
                    foreach (var s in targets)
                        if (s.Wants(e) && !s.Events.Writer.TryWrite(e)) Unsubscribe(s); // too far behind: cut off
                    if (e.Id > cursor) cursor = e.Id;
                }
                if (batch.Count < BatchSize) break;
            }
            _cursor = cursor;
            if (_slack > 0 && _dispatched.Count > 4 * _slack) _dispatched.RemoveWhere(id => id <= cursor - _slack);
        }
        finally
        {
            _gate.Release();
        }
    }
}
