namespace Assay.Engine.Store;

// ITimerStore: durable timers. A ScheduleTimer command inserts one (idempotent on its seq); the timer loop fires the due
// ones, each with its TimerFired event in the same transaction.
internal abstract partial class SqlEngineStore
{
    async Task ScheduleTimerAsync(Tx tx, WfRow row, ScheduleTimerCommand c)
    {
        var fireAt = tx.Now + c.DurationSecs;
        var timerId = await tx.ScalarAsync(
            "INSERT INTO workflow_timers (workflow_id, seq, fire_at, fired) VALUES (@id, @seq, @fire, 0) ON CONFLICT (workflow_id, seq) DO NOTHING RETURNING id",
            ("@id", row.Id), ("@seq", c.Seq), ("@fire", fireAt));
        if (timerId is null) return; // already scheduled by an earlier replay
        await AppendEventAsync(tx, row, EventType.TimerScheduled, JsonText.Build(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("timer_id", Convert.ToInt64(timerId));
            w.WriteNumber("timer_seq", c.Seq);
            w.WriteNumber("fire_at", fireAt);
            w.WriteNumber("duration_secs", c.DurationSecs);
            w.WriteEndObject();
        }));
        tx.Wakes.Add(new Wake(WakeKind.Timer, "", fireAt));
    }

    public Task<int> FireDueTimersAsync() => ProcessDueAsync(
        "SELECT id FROM workflow_timers WHERE fired = 0 AND fire_at <= @now ORDER BY fire_at LIMIT 200",
        async (tx, id) =>
        {
            var workflowId = await tx.ScalarAsync("SELECT workflow_id FROM workflow_timers WHERE id = @id", ("@id", id)) as string;
            if (workflowId is null || await LoadAsync(tx, workflowId) is not { } row) return false;
            // Flag and event in one transaction: a crash cannot fire a timer without waking its workflow.
            var fired = await tx.QuerySingleAsync(
                "UPDATE workflow_timers SET fired = 1 WHERE id = @id AND fired = 0 RETURNING seq, fire_at",
                x => new { Seq = x.Long("seq"), FireAt = x.Dbl("fire_at") }, ("@id", id));
            if (fired is null || row.IsTerminal) return false;
            await AppendEventAsync(tx, row, EventType.TimerFired, JsonText.Build(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("timer_seq", fired.Seq);
                w.WriteNumber("fire_at", fired.FireAt);
                w.WriteEndObject();
            }));
            MarkDispatchable(tx, row);
            return true;
        });

    public Task<double?> NextTimerDueAsync() => InReadAsync(async tx =>
        await tx.ScalarAsync("SELECT MIN(fire_at) FROM workflow_timers WHERE fired = 0") is { } v ? Convert.ToDouble(v) : (double?)null);
}
