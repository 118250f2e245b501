using System.Collections.Concurrent;

namespace Assay.Engine.Operations;

/// <summary>
/// The engine's counters and histograms, rendered as Prometheus text (format 0.0.4) at <c>/metrics</c>.
/// Counters are per engine process (each engine counts what it committed or served); gauges of
/// queue backlog are read from the store at scrape time, so they are cluster-wide.
/// </summary>
public sealed class EngineMetrics
{
    static readonly double[] Buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    readonly ConcurrentDictionary<string, long[]> _counters = new();
    readonly ConcurrentDictionary<string, Histogram> _histograms = new();
    readonly ConcurrentDictionary<long, (string Name, long StartTicks)> _running = new();

    sealed class Histogram
    {
        public readonly long[] Counts = new long[Buckets.Length + 1];
        public double Sum;
        public long Count;
    }

    static string Key(string metric, params (string Name, string Value)[] labels)
    {
        if (labels.Length == 0) return metric;
        var sb = new StringBuilder(metric).Append('{');
        for (var i = 0; i < labels.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
        }
        return sb.Append('}').ToString();
    }

    static string Escape(string v) => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    public void Inc(string metric, params (string, string)[] labels) => Interlocked.Increment(ref _counters.GetOrAdd(Key(metric, labels), _ => new long[1])[0]);

    public void Observe(string metric, double seconds, params (string, string)[] labels)
    {
        var h = _histograms.GetOrAdd(Key(metric, labels), _ => new Histogram());
        var i = 0;
        while (i < Buckets.Length && seconds > Buckets[i]) i++;
        lock (h)
        {
            h.Counts[i]++;
            h.Sum += seconds;
            h.Count++;
        }
    }

    // ── hooks ──
    public void StatusChanged(StatusChange c)
    {
        if (c.Status == WorkflowStatus.Pending) Inc("assay_workflows_started_total", ("workflow_type", c.WorkflowType));
        else if (WorkflowStatus.IsTerminal(c.Status))
            Inc("assay_workflows_finished_total", ("workflow_type", c.WorkflowType), ("status", c.Status));
    }

    public void ActivityClaimed(ActivityRecord a)
    {
        Inc("assay_activity_attempts_total", ("activity", a.Name));
        if (_running.Count < 100_000) _running[a.Id] = (a.Name, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    public void ActivityReported(long id, string outcome)
    {
        if (!_running.TryRemove(id, out var r)) return;
        Inc("assay_activity_results_total", ("activity", r.Name), ("outcome", outcome));
        Observe("assay_activity_duration_seconds", System.Diagnostics.Stopwatch.GetElapsedTime(r.StartTicks).TotalSeconds, ("activity", r.Name));
    }

    /// <summary>Renders everything; <paramref name="gauges"/> are lines computed at scrape time.</summary>
    public string Render(IEnumerable<(string Metric, string Help, (string, string)[] Labels, double Value)> gauges)
    {
        var sb = new StringBuilder();
        var helps = new Dictionary<string, (string Type, string Help)>
        {
            ["assay_workflows_started_total"] = ("counter", "Workflows started (by schedules, clients and parents)."),
            ["assay_workflows_finished_total"] = ("counter", "Workflows that reached a terminal status."),
            ["assay_activity_attempts_total"] = ("counter", "Activity attempts handed to workers."),
            ["assay_activity_results_total"] = ("counter", "Activity attempts reported back, by outcome."),
            ["assay_activity_duration_seconds"] = ("histogram", "Time from claim to completion or failure of an activity attempt."),
            ["assay_eager_workflow_tasks_total"] = ("counter", "Workflow tasks handed to the worker that reported an activity outcome (eager workflow task), without a poll."),
            ["assay_poll_wait_seconds"] = ("histogram", "Time a worker poll waited on the server, by kind and result."),
            ["assay_store_write_seconds"] = ("histogram", "Duration of store write transactions."),
            ["assay_event_stream_reads_total"] = ("counter", "Reads of the event table for /events/stream (shared by all clients; resumes read once more)."),
        };
        foreach (var group in _counters.OrderBy(kv => kv.Key, StringComparer.Ordinal).GroupBy(kv => MetricOf(kv.Key)))
        {
            Header(sb, group.Key, helps.GetValueOrDefault(group.Key, ("counter", group.Key)));
            foreach (var (key, v) in group) sb.Append(key).Append(' ').Append(Volatile.Read(ref v[0]).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        foreach (var group in _histograms.OrderBy(kv => kv.Key, StringComparer.Ordinal).GroupBy(kv => MetricOf(kv.Key)))
        {
            Header(sb, group.Key, helps.GetValueOrDefault(group.Key, ("histogram", group.Key)));
            foreach (var (key, h) in group)
            {
                var labels = key.Length > group.Key.Length ? key[(group.Key.Length + 1)..^1] : "";
                string L(string extra) => "{" + (labels.Length > 0 ? labels + "," : "") + extra + "}";
                long[] counts;
                double sum;
                long count;
                lock (h) { counts = (long[])h.Counts.Clone(); sum = h.Sum; count = h.Count; }
                long cumulative = 0;
                for (var i = 0; i < Buckets.Length; i++)
                {
                    cumulative += counts[i];
                    sb.Append(group.Key).Append("_bucket").Append(L($"le=\"{Buckets[i].ToString(CultureInfo.InvariantCulture)}\"")).Append(' ')
                        .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                sb.Append(group.Key).Append("_bucket").Append(L("le=\"+Inf\"")).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                var plain = labels.Length > 0 ? "{" + labels + "}" : "";
                sb.Append(group.Key).Append("_sum").Append(plain).Append(' ').Append(sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                sb.Append(group.Key).Append("_count").Append(plain).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        foreach (var group in gauges.GroupBy(g => g.Metric))
        {
            Header(sb, group.Key, ("gauge", group.First().Help));
            foreach (var g in group) sb.Append(Key(g.Metric, g.Labels)).Append(' ').Append(g.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    static string MetricOf(string key) => key.IndexOf('{') is var i and >= 0 ? key[..i] : key;

    static void Header(StringBuilder sb, string metric, (string Type, string Help) h) =>
        sb.Append("# HELP ").Append(metric).Append(' ').Append(h.Help).Append('\n')
          .Append("# TYPE ").Append(metric).Append(' ').Append(h.Type).Append('\n');
}
