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
/// what is queued in one transaction, each operation after the first inside its own savepoint, so a failing operation
/// rolls back alone. One commit — one WAL flush — then serves the whole batch, and every caller learns its result only
/// after that commit (a failed commit fails them all: nothing of theirs happened). An operation that arrives alone runs
/// at once, without a savepoint, on its caller's thread.
/// <para>Bounds: a batch takes at most <c>maxBatch</c> operations and stops taking more after <c>maxBatchTime</c>, so the row
/// locks its first operations took are not held for long (other engines on the same PostgreSQL database wait on them).
/// An operation that lost a deadlock or a serialization conflict is rolled back to its savepoint and queued again for a
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

    async Task RunBatchAsync(IWriteLane lane)
    {
        if (!_queue.TryDequeue(out var op)) return;
        var succeeded = new List<Op>();
        List<Op>? again = null;
        Op? running = op;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await lane.BeginAsync();
            try
            {
                // The first operation needs no savepoint: if it fails, the transaction holds nothing else yet.
                await op.Run(lane.NewTx());
                succeeded.Add(op);
            }
            catch (Exception e)
            {
                await lane.RollbackAsync();
                Settle(lane, op, e, ref again);
                return;
            }
            var taken = 1;
            var savepoint = false;
            while (taken < _maxBatch && Stopwatch.GetElapsedTime(started) < _maxBatchTime && _queue.TryDequeue(out op))
            {
                taken++;
                running = op;
                await lane.SavepointAsync(releasePrevious: savepoint);
                savepoint = true;
                try
                {
                    await op.Run(lane.NewTx());
                    succeeded.Add(op);
                }
                catch (Exception e)
                {
                    await lane.RollbackToSavepointAsync();
                    Settle(lane, op, e, ref again);
                }
            }
            running = null;
            await lane.CommitAsync(); // releases the last savepoint with everything else
            foreach (var s in succeeded) s.Committed();
        }
        catch (Exception e)
        {
            // The transaction itself failed (connection lost, rollback or commit refused): none of its operations happened.
            lane.Abandon();
            running?.Failed(e);
            foreach (var s in succeeded) s.Failed(e);
        }
        finally
        {
            if (again is not null) foreach (var a in again) _queue.Enqueue(a);
        }
    }

    /// <summary>A failed operation: queued again if it only lost a lock conflict, else its caller gets the error.</summary>
    static void Settle(IWriteLane lane, Op op, Exception e, ref List<Op>? again)
    {
        if (lane.IsRetryable(e) && ++op.Attempts < MaxAttempts) (again ??= []).Add(op);
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
