namespace Assay.Engine.Store;

// IEventStore: the live event stream (every appended history event by global id) and status-change announcements.
internal abstract partial class SqlEngineStore
{
    public Pulse EventsAppended { get; } = new();
    public event Action<StatusChange>? StatusChanged;

    /// <summary>Tells the event stream what a committed transaction did (appended events, changed statuses).</summary>
    void AnnounceCommitted(Tx tx)
    {
        if (tx.Appended) EventsAppended.Fire();
        if (tx.StatusChanges.Count > 0 && StatusChanged is { } handler)
            foreach (var c in tx.StatusChanges) handler(c);
    }

    public Task<long> MaxEventIdAsync() => InReadAsync(async tx =>
        Convert.ToInt64(await tx.ScalarAsync("SELECT COALESCE(MAX(id), 0) FROM workflow_events") ?? 0L));

    public Task<IReadOnlyList<StreamEvent>> ReadEventStreamAsync(long afterId, string? ns, string? workflowId, int limit) =>
        InReadAsync<IReadOnlyList<StreamEvent>>(async tx => await tx.QueryAsync(
            $"""
            SELECT {RecordMaps.StreamEventColumns}
            FROM workflow_events e JOIN workflows w ON w.id = e.workflow_id
            WHERE e.id > @after{(ns is null ? "" : " AND w.namespace = @ns")}{(workflowId is null ? "" : " AND e.workflow_id = @wf")}
            ORDER BY e.id LIMIT @limit
            """,
            RecordMaps.StreamEvent, ("@after", afterId), ("@ns", ns), ("@wf", workflowId), ("@limit", (long)limit)));
}
