using System.Collections.Concurrent;
using System.Diagnostics;

namespace Assay.Engine.Store;

/// <summary>
/// One database connection the group-commit writer runs its transactions on. The store supplies it (SQLite: the single
/// writer connection; PostgreSQL: one kept connection per lane); <see cref="GroupCommit"/> decides what runs in which
/// transaction. Savepoints are all named alike: at most one is open at a time.
/// </summary>
internal interface IWriteLane
{
    /// <summary>Starts a write transaction (opening the connection first if the lane has none).</summary>
    Task BeginAsync();

    /// <summary>The unit of work for one operation inside the current transaction.</summary>
    Tx NewTx();

    /// <summary>Opens the savepoint guarding the next operation; <paramref name="releasePrevious"/> first releases the
    /// previous operation's savepoint, in the same round trip.</summary>
    Task SavepointAsync(bool releasePrevious);

    /// <summary>Undoes the current operation only (back to its savepoint); the transaction goes on.</summary>
    Task RollbackToSavepointAsync();

    Task CommitAsync();
    Task RollbackAsync();

    /// <summary>Whether an operation that failed with <paramref name="e"/> may simply run again in a later transaction
    /// (PostgreSQL: deadlock victim, serialization failure).</summary>
    bool IsRetryable(Exception e);

    /// <summary>The transaction failed as a whole (connection lost, commit refused), or the store is closing: drop the
    /// transaction and close a connection the lane owns; a next batch starts afresh.</summary>
    void Abandon();
}

/// <summary>
/// Group commit, shared by both stores: an operation joins a queue; whoever finds a lane free becomes the leader and runs
/// what is queued in one transaction. One commit — one WAL flush — then serves the whole batch, and every caller learns
/// its result only after that commit (a failed commit fails them all: nothing of theirs happened). A batch runs without
/// savepoints first; if one of its operations fails, it is rolled back and run again with a savepoint per operation, so
/// the failing one rolls back alone (see <see cref="RunBatchAsync"/>). An operation that arrives alone runs at once, on
/// its caller's thread.
/// <para>Bounds: a batch takes at most <c>maxBatch</c> operations and stops taking more after <c>maxBatchTime</c>, so the row
/// locks its first operations took are not held for long (other engines on the same PostgreSQL database wait on them).
/// An operation that lost a deadlock or a serialization conflict is rolled back (to its savepoint) and queued again for a
/// later transaction (after this one's locks are gone), up to <see cref="MaxAttempts"/> times.</para>
/// </summary>
internal sealed class GroupCommit
{
    public const int MaxAttempts = 8;

    readonly ConcurrentQueue<Op> _queue = new();
    readonly ConcurrentStack<IWriteLane> _idle;
    readonly SemaphoreSlim _free;
    readonly SemaphoreSlim _exclusive = new(1, 1); // one caller at a time collects every lane (no two holding half each)
    readonly int _lanes;
    readonly int _maxBatch;
    readonly TimeSpan _maxBatchTime;

    public GroupCommit(IReadOnlyList<IWriteLane> lanes, int maxBatch, TimeSpan maxBatchTime)
    {
        _idle = new ConcurrentStack<IWriteLane>(lanes);
        _lanes = lanes.Count;
        _free = new SemaphoreSlim(_lanes, _lanes);
        _maxBatch = maxBatch;
        _maxBatchTime = maxBatchTime;
    }

    /// <summary>How many batches may run at once (one connection each).</summary>
    public int LaneCount => _lanes;

    /// <summary>Runs <paramref name="body"/> in a write transaction shared with whatever else is queued; returns its result
    /// once that transaction has committed.</summary>
    public async Task<T> RunAsync<T>(Func<Tx, Task<T>> body)
    {
        var op = new Op<T>(body);
        _queue.Enqueue(op);
        await DrainIfFreeAsync(op.Done.Task);
        return await op.Done.Task;
    }

    /// <summary>Runs <paramref name="body"/> while no batch runs on any lane (SQLite in memory reads on its writer
    /// connection), then serves what was queued meanwhile.</summary>
    public async Task<T> ExclusiveAsync<T>(Func<Task<T>> body)
    {
        await TakeAllLanesAsync();
        try { return await body(); }
        finally
        {
            _free.Release(_lanes);
            _exclusive.Release();
            await DrainIfFreeAsync(null);
        }
    }

    /// <summary>Waits for running batches to finish, keeps any further one from starting and closes the lanes (store
    /// disposal).</summary>
    public async Task StopAsync()
    {
        await TakeAllLanesAsync();
        foreach (var lane in _idle) lane.Abandon();
    }

    async Task TakeAllLanesAsync()
    {
        await _exclusive.WaitAsync();
        for (var i = 0; i < _lanes; i++) await _free.WaitAsync();
    }

    /// <summary>Leads batches while a lane is free and work is queued. Re-checks after giving a lane back, so an operation
    /// queued while the previous leader was finishing is never left behind.</summary>
    async Task DrainIfFreeAsync(Task? mine)
    {
        while (!_queue.IsEmpty && _free.Wait(0))
        {
            _idle.TryPop(out var lane);
            if (!await LeadAsync(lane!, mine)) return;
        }
    }

    /// <summary>Runs batches on <paramref name="lane"/> until the queue is empty, then frees the lane (true). A leader whose own
    /// operation is done while others still wait hands the lane to a pool thread (false) rather than keep its caller
    /// waiting through other callers' commits.</summary>
    async Task<bool> LeadAsync(IWriteLane lane, Task? mine)
    {
        while (!_queue.IsEmpty)
        {
            if (mine is { IsCompleted: true })
            {
                _ = Task.Run(async () =>
                {
                    if (await LeadAsync(lane, null)) await DrainIfFreeAsync(null);
                });
                return false;
            }
            await RunBatchAsync(lane);
        }
        _idle.Push(lane);
        _free.Release();
        return true;
    }

    /// <summary>Runs one batch: optimistically first, without savepoints (they cost a round trip each on PostgreSQL, and
    /// operations rarely fail); if one fails, the transaction is rolled back and the same operations run again guarded, each
    /// in its own savepoint. Nobody has been told anything before the commit, so running an operation again is invisible:
    /// every answer comes from a run whose transaction committed.</summary>
    async Task RunBatchAsync(IWriteLane lane)
    {
        if (!_queue.TryDequeue(out var op)) return;
        var ops = new List<Op> { op };
        var again = new List<Op>(); // lock-conflict losers, to run in a later transaction
        try
        {
            if (!await RunOptimisticAsync(lane, ops, again)) await RunGuardedAsync(lane, ops, again);
        }
        catch (Exception e)
        {
            // The transaction itself failed (connection lost, rollback or commit refused): none of its operations happened.
            lane.Abandon();
            foreach (var o in ops) o.Failed(e);
            foreach (var o in again) o.Failed(e);
            again.Clear();
        }
        foreach (var a in again) _queue.Enqueue(a);
    }

    /// <summary>Runs <paramref name="ops"/>, taking more from the queue while the batch has room and time, and commits them
    /// (true); or, when one of several fails, rolls everything back (false: run them guarded). A lone operation's failure
    /// is simply its own.</summary>
    async Task<bool> RunOptimisticAsync(IWriteLane lane, List<Op> ops, List<Op> again)
    {
        var started = Stopwatch.GetTimestamp();
        await lane.BeginAsync();
        for (var i = 0; ; i++)
        {
            if (i == ops.Count && !TakeMore(ops, started)) break;
            try
            {
                await ops[i].Run(lane.NewTx());
            }
            catch (Exception e)
            {
                await lane.RollbackAsync();
                if (ops.Count > 1) return false;
                Settle(lane, ops[0], e, again);
                ops.Clear();
                return true;
            }
        }
        await lane.CommitAsync();
        foreach (var o in ops) o.Committed();
        return true;
    }

    /// <summary>Runs <paramref name="ops"/> (and more from the queue while the batch has room and time) each in its own
    /// savepoint, so a failing one rolls back alone, and commits the rest.</summary>
    async Task RunGuardedAsync(IWriteLane lane, List<Op> ops, List<Op> again)
    {
        var started = Stopwatch.GetTimestamp();
        await lane.BeginAsync();
        var succeeded = new List<Op>(ops.Count);
        for (var i = 0; i < ops.Count || TakeMore(ops, started); i++)
        {
            await lane.SavepointAsync(releasePrevious: i > 0);
            try
            {
                await ops[i].Run(lane.NewTx());
                succeeded.Add(ops[i]);
            }
            catch (Exception e)
            {
                await lane.RollbackToSavepointAsync();
                Settle(lane, ops[i], e, again);
            }
        }
        ops.Clear();
        ops.AddRange(succeeded); // only these are still waiting on the commit
        await lane.CommitAsync(); // releases the last savepoint with everything else
        foreach (var o in succeeded) o.Committed();
    }

    /// <summary>Adds the next queued operation to the batch, if it has room and time left.</summary>
    bool TakeMore(List<Op> ops, long started)
    {
        if (ops.Count >= _maxBatch || Stopwatch.GetElapsedTime(started) >= _maxBatchTime || !_queue.TryDequeue(out var next)) return false;
        ops.Add(next);
        return true;
    }

    /// <summary>A failed operation: queued again if it only lost a lock conflict, else its caller gets the error.</summary>
    static void Settle(IWriteLane lane, Op op, Exception e, List<Op> again)
    {
        if (lane.IsRetryable(e) && ++op.Attempts < MaxAttempts) again.Add(op);
        else op.Failed(e);
    }

    abstract class Op
    {
        public int Attempts;
        public abstract Task Run(Tx tx);
        public abstract void Committed();
        public abstract void Failed(Exception e);
    }

    sealed class Op<T>(Func<Tx, Task<T>> body) : Op
    {
        public readonly TaskCompletionSource<T> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        T _result = default!;

        public override async Task Run(Tx tx) => _result = await body(tx);
        public override void Committed() => Done.TrySetResult(_result);
        public override void Failed(Exception e) => Done.TrySetException(e);
    }
}
