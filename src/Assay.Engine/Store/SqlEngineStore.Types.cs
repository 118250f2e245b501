namespace Assay.Engine.Store;

// Type-aware dispatch (docs/engine.md "Type-aware dispatch"): the claim filter of a poll that lists its types, the
// types registered workers serve (workflow_worker_types), and which waiting tasks no live worker serves.
internal abstract partial class SqlEngineStore
{
    /// <summary>Type name recorded for a worker that registered no list of that kind: it may take any type.</summary>
    const string AnyType = "";

    /// <summary>
    /// The sub-select that picks the task a poll claims. <paramref name="head"/> builds the queue's FIFO head query from
    /// the columns to select and an extra condition. A poll without types gets that head as is; a poll that lists types
    /// gets, per type, the head of that type's FIFO (an indexed lookup on (queue, type, order)), and the earliest of them
    /// — so tasks of types the worker lacks are never walked past, however many wait. On PostgreSQL each head is taken
    /// with SKIP LOCKED, so the heads not chosen stay locked until this short transaction commits: a concurrent claimer
    /// passes them by for that moment, as it passes any row another claimer holds.
    /// </summary>
    static (string Sql, (string, object?)[] Params) ClaimPick(IReadOnlyList<string>? types, string typeColumn,
        string[] order, Func<string, string, string> head)
    {
        if (types is null) return (head("c.id", ""), []);
        var ps = types.Select((t, i) => ($"@type{i}", (object?)t)).ToArray();
        if (types.Count == 1) return (head("c.id", $" AND c.{typeColumn} = @type0"), ps);
        var columns = string.Join(", ", new[] { "id" }.Concat(order).Distinct().Select(c => "c." + c));
        var heads = types.Select((_, i) => $"SELECT * FROM ({head(columns, $" AND c.{typeColumn} = @type{i}")}) h{i}");
        return ($"SELECT h.id FROM ({string.Join(" UNION ALL ", heads)}) h ORDER BY {string.Join(", ", order.Select(c => "h." + c))} LIMIT 1", ps);
    }

    /// <summary>Records the types a new worker serves, per kind; a list that was not sent means any type.</summary>
    static async Task RecordWorkerTypesAsync(Tx tx, string workerId, string queue, string kind, string? namesJson)
    {
        foreach (var name in NamesOf(namesJson))
            await tx.ExecAsync(
                """
                INSERT INTO workflow_worker_types (kind, task_queue, name, worker_id) VALUES (@kind, @queue, @name, @worker)
                ON CONFLICT (kind, task_queue, name, worker_id) DO NOTHING
                """, ("@kind", kind), ("@queue", queue), ("@name", name), ("@worker", workerId));
    }

    static IEnumerable<string> NamesOf(string? namesJson)
    {
        if (namesJson is null) return [AnyType];
        using var doc = JsonDocument.Parse(namesJson);
        return doc.RootElement.EnumerateArray().Select(e => e.GetString()!).Where(n => n != AnyType).ToList();
    }

    /// <summary>No live worker on the task's queue serves its type (alias <c>t</c> inside; <paramref name="kind"/>,
    /// <paramref name="queue"/> and <paramref name="name"/> are SQL expressions of the outer query).</summary>
    static string NoWorkerServes(string kind, string queue, string name) =>
        $"NOT EXISTS (SELECT 1 FROM workflow_worker_types t WHERE t.kind = {kind} AND t.task_queue = {queue} AND t.name IN ({name}, ''))";

    /// <summary>Waiting workflow tasks (alias <c>w</c>) no live worker serves.</summary>
    static readonly string UnservedWorkflowTask =
        "w.needs_dispatch = 1 AND w.lease_owner IS NULL AND w.status IN ('PENDING', 'RUNNING') AND " +
        NoWorkerServes("'workflow'", "w.task_queue", "w.workflow_type");

    /// <summary>Pending activities (alias <c>a</c>) no live worker serves.</summary>
    static readonly string UnservedActivity = "a.status = 'PENDING' AND " + NoWorkerServes("'activity'", "a.task_queue", "a.name");

    /// <summary>Fills <see cref="WorkflowRecord.Unserved"/> of the running workflows among <paramref name="records"/>:
    /// the waiting tasks no live worker serves (two queries for the whole page).</summary>
    static async Task AnnotateUnservedAsync(Tx tx, IReadOnlyList<WorkflowRecord> records)
    {
        var open = records.Where(r => !WorkflowStatus.IsTerminal(r.Status)).ToList();
        if (open.Count == 0) return;
        var ids = string.Join(", ", open.Select((_, i) => $"@id{i}"));
        var ps = open.Select((r, i) => ($"@id{i}", (object?)r.Id)).ToArray();
        var found = new List<(string Id, UnservedTask Task)>();
        found.AddRange(await tx.QueryAsync(
            $"SELECT w.id, w.workflow_type, w.task_queue FROM workflows w WHERE w.id IN ({ids}) AND {UnservedWorkflowTask}",
            x => (x.Str("id"), new UnservedTask { Kind = "workflow", Name = x.Str("workflow_type"), TaskQueue = x.Str("task_queue") }), ps));
        found.AddRange(await tx.QueryAsync(
            $"SELECT DISTINCT a.workflow_id, a.name, a.task_queue FROM workflow_activities a WHERE a.workflow_id IN ({ids}) AND {UnservedActivity} ORDER BY a.name",
            x => (x.Str("workflow_id"), new UnservedTask { Kind = "activity", Name = x.Str("name"), TaskQueue = x.Str("task_queue") }), ps));
        foreach (var r in open)
            r.Unserved = found.Where(f => f.Id == r.Id).Select(f => f.Task).ToList();
    }

    public Task<IReadOnlyList<UnservedCount>> CountUnservedTasksAsync() => InReadAsync<IReadOnlyList<UnservedCount>>(async tx =>
    {
        var counts = await tx.QueryAsync(
            $"""
            SELECT w.namespace, 'workflow' AS kind, w.task_queue, w.workflow_type AS name, COUNT(*) AS n
            FROM workflows w WHERE {UnservedWorkflowTask} GROUP BY w.namespace, w.task_queue, w.workflow_type
            UNION ALL
            SELECT w.namespace, 'activity' AS kind, a.task_queue, a.name, COUNT(*) AS n
            FROM workflow_activities a JOIN workflows w ON w.id = a.workflow_id
            WHERE {UnservedActivity} GROUP BY w.namespace, a.task_queue, a.name
            """,
            x => new UnservedCount(x.Str("namespace"), x.Str("kind"), x.Str("task_queue"), x.Str("name"), x.Long("n")));
        return counts.OrderBy(c => c.Namespace, StringComparer.Ordinal).ThenBy(c => c.Kind, StringComparer.Ordinal)
            .ThenBy(c => c.TaskQueue, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
    });
}
