using Assay.Engine.Core;

namespace Assay.Engine.Store;

// Hand-back of claimed tasks (POST /workflow-tasks/{id}/release, /tasks/{id}/release): a stopping worker, or one that does
// not define the task's type, returns it untouched so another worker runs it at once. A backoff keeps the task away from the
// releasing worker only (a row per worker in *_releases, filtered by the claims), so the workers that have the type are not
// delayed while a queue nobody serves does not spin.
internal abstract partial class SqlWorkflowStore
{
    public Task ReleaseWorkflowTaskAsync(string workflowId, string workerId, string leaseToken, TaskRelease release) => WriteAsync(async tx =>
    {
        var row = await LoadRequiredAsync(tx, workflowId);
        if (row.IsTerminal) throw EngineException.Conflict($"workflow {workflowId} is already {row.Status}");
        RequireLease(row, workerId, leaseToken);
        row.ClearLease();
        row.NeedsDispatch = true;
        row.DispatchReadyAt ??= tx.Now;
        await tx.ExecAsync("DELETE FROM workflow_task_releases WHERE until_at <= @now", ("@now", tx.Now));
        if (release.BackoffSecs > 0)
            await tx.ExecAsync(
                """
                INSERT INTO workflow_task_releases (workflow_id, worker_id, until_at) VALUES (@id, @worker, @until)
                ON CONFLICT (workflow_id, worker_id) DO UPDATE SET until_at = excluded.until_at
                """, ("@id", workflowId), ("@worker", workerId), ("@until", tx.Now + release.BackoffSecs));
        if (release.Unhandled) await NoteUnhandledAsync(tx, row, "workflow", row.WorkflowType, row.TaskQueue, workerId);
        tx.Wakes.Add(new Wake(WakeKind.WorkflowTaskReleased, row.TaskQueue));
    });

    public Task ReleaseActivityAsync(long id, AttemptCheck check, TaskRelease release) => WriteAsync(async tx =>
    {
        var (row, act) = await LoadActivityAsync(tx, id);
        RequireRunningAttempt(act, check); // a finished workflow's activities are CANCELLED: 409, nothing to hand back
        // Back to PENDING on the same attempt and in its place in the queue (scheduled_at is kept).
        await tx.ExecAsync(
            """
            UPDATE workflow_activities SET status = 'PENDING', claimed_by = NULL, started_at = NULL, last_heartbeat = NULL,
                timeout_at = NULL, lease_token = NULL, lease_bound = 0
            WHERE id = @id
            """, ("@id", id));
        await tx.ExecAsync("DELETE FROM activity_releases WHERE until_at <= @now", ("@now", tx.Now));
        if (release.BackoffSecs > 0)
            await tx.ExecAsync(
                """
                INSERT INTO activity_releases (activity_id, worker_id, until_at) VALUES (@id, @worker, @until)
                ON CONFLICT (activity_id, worker_id) DO UPDATE SET until_at = excluded.until_at
                """, ("@id", id), ("@worker", check.WorkerId), ("@until", tx.Now + release.BackoffSecs));
        if (release.Unhandled)
            await NoteUnhandledAsync(tx, row, "activity", act.Name, act.TaskQueue, check.WorkerId!);
        tx.Wakes.Add(new Wake(WakeKind.ActivityReleased, act.TaskQueue));
    });

    /// <summary>Claim filter: not a task this worker handed back and is still backing off from (alias <c>c</c>).</summary>
    const string NotReleasedByWorkflowWorker =
        "NOT EXISTS (SELECT 1 FROM workflow_task_releases r WHERE r.workflow_id = c.id AND r.worker_id = @worker AND r.until_at > @now)";
    const string NotReleasedByActivityWorker =
        "NOT EXISTS (SELECT 1 FROM activity_releases r WHERE r.activity_id = c.id AND r.worker_id = @worker AND r.until_at > @now)";

    static Task NoteUnhandledAsync(Tx tx, WfRow row, string kind, string name, string queue, string workerId)
    {
        row.UnhandledKind = kind;
        return tx.ExecAsync(
            """
            UPDATE workflows SET unhandled_kind = @kind, unhandled_name = @name, unhandled_queue = @queue, unhandled_by = @worker,
                unhandled_at = @now
            WHERE id = @id
            """, ("@kind", kind), ("@name", name), ("@queue", queue), ("@worker", workerId), ("@now", tx.Now), ("@id", row.Id));
    }

    /// <summary>A worker made progress on the workflow: whatever was handed back has found a worker.</summary>
    static async Task ClearUnhandledAsync(Tx tx, WfRow row)
    {
        if (row.UnhandledKind is null) return;
        row.UnhandledKind = null;
        await tx.ExecAsync(
            """
            UPDATE workflows SET unhandled_kind = NULL, unhandled_name = NULL, unhandled_queue = NULL, unhandled_by = NULL,
                unhandled_at = NULL
            WHERE id = @id
            """, ("@id", row.Id));
    }
}
