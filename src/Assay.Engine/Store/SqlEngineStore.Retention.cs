namespace Assay.Engine.Store;

// IRetentionStore: expired terminal workflows (a keyset page at a time) and their deletion once archived.
internal abstract partial class SqlEngineStore
{
    public Task<IReadOnlyList<(string Id, double CompletedAt)>> RetentionCandidatesAsync(int limit, double afterCompletedAt, string afterId) =>
        InReadAsync<IReadOnlyList<(string Id, double CompletedAt)>>(async tx =>
        await tx.QueryAsync(
            """
            SELECT w.id, w.completed_at FROM workflows w JOIN namespaces n ON n.name = w.namespace
            WHERE n.retention_secs IS NOT NULL AND w.completed_at IS NOT NULL AND w.completed_at < @now - n.retention_secs
                AND w.status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT')
                AND (w.completed_at > @after_at OR (w.completed_at = @after_at AND w.id > @after_id))
            ORDER BY w.completed_at, w.id LIMIT @limit
            """, x => (x.Str("id"), x.Dbl("completed_at")), ("@now", tx.Now), ("@limit", (long)limit), ("@after_at", afterCompletedAt), ("@after_id", afterId)));

    /// <summary>Deletes a finished workflow and everything it owns, in one transaction. False when it is not (or no longer) terminal.</summary>
    public Task<bool> PurgeWorkflowAsync(string workflowId) => WriteAsync(async tx =>
    {
        var status = await tx.ScalarAsync($"SELECT status FROM workflows WHERE id = @id{D.ForUpdate}", ("@id", workflowId)) as string;
        if (status is null || !WorkflowStatus.IsTerminal(status)) return false;
        foreach (var table in new[] { "workflow_events", "workflow_activities", "workflow_timers", "workflow_signals", "workflow_side_effects", "workflow_snapshots" })
            await tx.ExecAsync($"DELETE FROM {table} WHERE workflow_id = @id", ("@id", workflowId));
        await tx.ExecAsync("DELETE FROM workflows WHERE id = @id", ("@id", workflowId));
        return true;
    });
}
