using static Assay.Lua.Interop.LuaNative;

namespace Assay.Lua.Loop;

/// <summary>
/// Drives every Lua execution of one VM as a coroutine on a single thread (docs/architecture.md, "Rule 2:
/// one thread per Lua state, one event loop per thread"). Builtins that wait start a .NET task and return a pending op; the
/// coroutine parks; when the task completes its continuation posts to <see cref="_inbox"/> and the
/// loop resumes the coroutine with the result. Other threads never touch the Lua state: they
/// <see cref="Post"/> work to the loop.
/// </summary>
public sealed class EventLoop
{
    readonly LuaVm _vm;
    readonly Queue<(LuaTask Task, PendingOp? Op, int Args)> _ready = new();
    readonly Inbox _inbox = new();
    readonly Dictionary<long, PendingOp> _ops = new();
    readonly Dictionary<long, LuaTask> _tasks = new();
    long _nextOpId, _nextTaskId;
    int _externalOps, _keepAlive, _liveTasks;
    int _loopThreadId = -1;

    internal EventLoop(LuaVm vm) => _vm = vm;

    /// <summary>Errors of tasks nobody awaited (logged by the host).</summary>
    public event Action<LuaTask>? UnhandledTaskError;

    /// <summary>True when at least one spawned task failed without being awaited.</summary>
    public bool HadUnhandledErrors { get; private set; }

    public bool IsLoopThread => Environment.CurrentManagedThreadId == _loopThreadId;

    /// <summary>Runs <paramref name="action"/> on the loop thread (thread-safe).</summary>
    public void Post(Action action) => _inbox.Add(action);

    /// <summary>Keeps the loop alive while something outside Lua (a server) may still post work.</summary>
    public IDisposable KeepAlive()
    {
        Interlocked.Increment(ref _keepAlive);
        return new Releaser(() => { Interlocked.Decrement(ref _keepAlive); Post(static () => { }); });
    }

    /// <summary>True while a server (or anything else outside Lua) keeps the loop alive.</summary>
    public bool IsKeptAlive => Volatile.Read(ref _keepAlive) > 0;

    sealed class Releaser(Action release) : IDisposable
    {
        int _done;
        public void Dispose() { if (Interlocked.Exchange(ref _done, 1) == 0) release(); }
    }

    // ---------------------------------------------------------------- builtin side

    /// <summary>
    /// Waits for <paramref name="task"/> on behalf of the calling coroutine. Already-completed
    /// tasks are answered directly (no yield: a round trip costs ~10 µs).
    /// </summary>
    public int Await<T>(LuaCall call, Task<T> task, Func<LuaState, T, int> push)
    {
        if (task.IsCompleted)
        {
            if (task.IsCompletedSuccessfully) return push(call.L, task.Result);
            return call.Fail(PendingOp.Describe(task.Exception ?? (Exception)new OperationCanceledException()));
        }
        return Pending(call, new TaskOp<T>(task, push, call.Name), task);
    }

    /// <summary>Waits for a task without a result.</summary>
    public int Await(LuaCall call, Task task, Func<LuaState, int>? push = null)
    {
        var typed = task as Task<bool> ?? AsBoolTask(task);
        return Await(call, typed, push == null ? static (_, _) => 0 : (L, _) => push(L));
    }

    static async Task<bool> AsBoolTask(Task t) { await t.ConfigureAwait(false); return true; }

    int Pending(LuaCall call, PendingOp op, Task task)
    {
        op.Id = ++_nextOpId;
        _ops[op.Id] = op;
        _externalOps++;
        long id = op.Id;
        task.ContinueWith(_ => Post(() => Complete(id)), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        call.L.PushInteger(id);
        return BuiltinStatus.Pending;
    }

    /// <summary>handle:await() — the results of another task, waiting if it still runs.</summary>
    public int AwaitTask(LuaCall call, long taskId)
    {
        if (!_tasks.TryGetValue(taskId, out var target)) return call.Error("async: unknown task handle");
        if (target.Awaited) return call.Error("async handle already awaited");
        target.Awaited = true;
        if (target.IsFinished)
        {
            int top = call.L.Top;
            PushOutcomeThenUnwrap(call.L, target, out int status);
            Release(target);
            return status == 0 ? call.L.Top - top : status;
        }
        var op = new TaskAwaitOp(target, Release) { Id = ++_nextOpId };
        _ops[op.Id] = op;
        (target.Awaiters ??= []).Add(op);
        call.L.PushInteger(op.Id);
        return BuiltinStatus.Pending;
    }

    static void PushOutcomeThenUnwrap(LuaState L, LuaTask target, out int status)
    {
        int top = L.Top;
        TaskAwaitOp.PushTaskOutcome(L, target);
        var flag = L.TypeOf(top + 1);
        bool ok = flag == LuaType.Boolean && L.ToBoolean(top + 1);
        L.Remove(top + 1);
        status = ok ? 0 : flag == LuaType.Nil ? BuiltinStatus.ErrorAsIs : BuiltinStatus.Error;
    }

    /// <summary>Called by the C trampoline where Lua cannot yield: block the loop thread instead.</summary>
    internal int WaitSynchronously(LuaState L)
    {
        long id = L.ToInteger(-1);
        L.Pop(1);
        if (!_ops.TryGetValue(id, out var op))
        {
            L.PushString("internal error: unknown pending operation");
            return BuiltinStatus.ErrorAsIs;
        }
        if (!op.CanWaitSynchronously)
        {
            L.PushString("cannot wait for a task here: this code runs where Lua cannot yield " +
                         "(a metamethod, a sort comparator, a gsub callback or a module's top level)");
            return BuiltinStatus.Error;
        }
        op.WaitSynchronously();
        _ops.Remove(id);
        if (op.IsExternal) _externalOps--;
        op.PushOutcome(L);
        return 0;
    }

    void Complete(long opId)
    {
        if (!_ops.Remove(opId, out var op)) return; // answered synchronously or its task is gone
        if (op.IsExternal) _externalOps--;
        if (op.Waiter is { } waiter && waiter.State == LuaTaskState.Waiting)
            _ready.Enqueue((waiter, op, 0));
    }

    // ---------------------------------------------------------------- tasks

    /// <summary>
    /// Creates a task running the function on top of <paramref name="from"/>'s stack with the
    /// <paramref name="nargs"/> values below... above it; pops them. The task starts on the next loop turn.
    /// </summary>
    public LuaTask Spawn(LuaState from, int nargs, string name, bool detached = false)
    {
        var L = from.Handle;
        lua_checkstack(L, 3);
        var thread = lua_newthread(L);
        int reference = luaL_ref(L, LUA_REGISTRYINDEX);
        // thread stack: task_main, fn, args...
        lua_rawgeti(thread, LUA_REGISTRYINDEX, _vm.TaskMainRef);
        lua_xmove(L, thread, nargs + 1);
        var task = new LuaTask(++_nextTaskId, thread, reference, name, detached);
        _tasks[task.Id] = task;
        _liveTasks++;
        _ready.Enqueue((task, null, nargs + 1));
        return task;
    }

    /// <summary>Stops a task: it will not be resumed again; its to-be-closed variables are closed.</summary>
    public bool Cancel(long taskId)
    {
        if (!_tasks.TryGetValue(taskId, out var task) || task.IsFinished) return false;
        if (task.WaitingOn is { } op && _ops.Remove(op.Id) && op.IsExternal) _externalOps--;
        task.Cancellation?.Cancel();
        task.State = LuaTaskState.Cancelled;
        _liveTasks--;
        if (!IsRunning(task)) assay_closethread(task.Thread);
        WakeAwaiters(task);
        if (task.Detached) Release(task);
        return true;
    }

    /// <summary>
    /// Aborts the .NET work the task is waiting on (an HTTP request) without stopping the task: the call fails with
    /// "operation cancelled" and the task carries on. A wait that already completed is delivered as usual, so nothing
    /// that arrived is lost (unlike <see cref="Cancel"/>). False when the task has nothing to abort.
    /// </summary>
    public bool Interrupt(long taskId)
    {
        if (!_tasks.TryGetValue(taskId, out var task) || task.IsFinished || task.Cancellation is not { } cts) return false;
        task.Cancellation = null; // the task's next wait gets a fresh token
        cts.Cancel();
        return true;
    }

    LuaTask? _running;
    bool IsRunning(LuaTask task) => ReferenceEquals(_running, task);

    public LuaTask? Current => _running;

    /// <summary>Cancelled when the running task is cancelled (async handle <c>cancel()</c>): a builtin that starts .NET work
    /// on the task's behalf (an HTTP request) passes it on, so a cancelled task's work is abandoned, not left running.</summary>
    public CancellationToken CurrentTaskCancellation =>
        _running is { } task ? (task.Cancellation ??= new CancellationTokenSource()).Token : CancellationToken.None;

    /// <summary>Lets go of a finished task's thread (its results are no longer needed).</summary>
    public void Release(long taskId)
    {
        if (_tasks.TryGetValue(taskId, out var t) && t.IsFinished) Release(t);
    }

    internal void Release(LuaTask task)
    {
        if (task.RegistryRef == 0) return;
        luaL_unref(_vm.MainState, LUA_REGISTRYINDEX, task.RegistryRef);
        task.RegistryRef = 0;
        _tasks.Remove(task.Id);
    }

    // ---------------------------------------------------------------- the loop

    /// <summary>
    /// Runs until every task has finished and nothing keeps the loop alive, the main task fails,
    /// or the VM is interrupted. Returns the outcome of <paramref name="main"/>.
    /// </summary>
    LuaTask? _main;

    public void Run(LuaTask? main = null, CancellationToken stop = default)
    {
        _main = main;
        _loopThreadId = Environment.CurrentManagedThreadId;
        using var wakeOnStop = stop.Register(Wake); // the check at the top of the loop then sees the cancellation
        while (true)
        {
            while (_ready.Count > 0)
            {
                var (task, op, args) = _ready.Dequeue();
                Step(task, op, args);
                if (_vm.IsInterrupted || (main is { IsFinished: true, Succeeded: false })) return;
            }
            if (_vm.IsInterrupted || stop.IsCancellationRequested) return;
            if (_liveTasks == 0 && Volatile.Read(ref _keepAlive) == 0 && _inbox.IsEmpty) return;
            if (_externalOps == 0 && Volatile.Read(ref _keepAlive) == 0 && _inbox.IsEmpty && _liveTasks > 0)
            {
                ReportDeadlock();
                return;
            }
            _vm.FlushOutput();
            _inbox.Take()();
        }
    }

    /// <summary>Runs posted work and ready tasks without blocking (for hosts that own the thread).</summary>
    public void RunPending()
    {
        while (_inbox.TryTake(out var action)) action();
        while (_ready.Count > 0)
        {
            var (task, op, args) = _ready.Dequeue();
            Step(task, op, args);
        }
    }

    public void Wake() => Post(static () => { });

    void ReportDeadlock()
    {
        foreach (var t in _tasks.Values.Where(t => !t.IsFinished).ToList())
        {
            t.State = LuaTaskState.Done;
            t.Succeeded = false;
            t.ErrorReport = "deadlock: every remaining task is waiting for another task";
            _liveTasks--;
            OnTaskError(t);
        }
    }

    void Step(LuaTask task, PendingOp? op, int args)
    {
        if (task.IsFinished) return;
        var co = new LuaState(task.Thread);
        if (op != null)
        {
            co.CheckStack(8);
            args = op.PushOutcome(co);
        }
        task.State = LuaTaskState.Ready;
        task.WaitingOn = null;
        _running = task;
        int status = assay_resume(task.Thread, IntPtr.Zero, args, out int nres);
        _running = null;
        if (task.State == LuaTaskState.Cancelled)
        {
            assay_closethread(task.Thread);
            return;
        }
        switch (status)
        {
            case LUA_YIELD:
                Park(task, co, nres);
                break;
            case LUA_OK:
                Finish(task, co, nres);
                break;
            default:
                FinishWithRawError(task, co);
                break;
        }
    }

    void Park(LuaTask task, LuaState co, int nres)
    {
        if (nres == 2 && co.ToUserData(-2) == LuaVm.Mark)
        {
            long id = co.ToInteger(-1);
            co.Pop(2);
            if (_ops.TryGetValue(id, out var op))
            {
                op.Waiter = task;
                task.WaitingOn = op;
                task.State = LuaTaskState.Waiting;
                return;
            }
        }
        // A plain coroutine.yield at the top of a task: let others run, then continue.
        co.Pop(nres);
        _ready.Enqueue((task, null, 0));
    }

    void Finish(LuaTask task, LuaState co, int nres)
    {
        // The stack now holds xpcall's results: ok, values… | false, ErrorBox.
        co.SetTop(nres);
        task.Succeeded = nres > 0 && co.ToBoolean(1);
        if (!task.Succeeded) task.ErrorReport = ReadErrorReport(co);
        task.State = LuaTaskState.Done;
        _liveTasks--;
        task.OnFinished?.Invoke(task, co);
        WakeAwaiters(task);
        if (!task.Succeeded && !task.Awaited && task.Awaiters == null) OnTaskError(task);
        if (task.Detached) Release(task); // awaited tasks are released once their outcome is delivered
    }

    void FinishWithRawError(LuaTask task, LuaState co)
    {
        var message = co.ToStringValue(-1) ?? "error object is not a string";
        co.SetTop(0);
        co.PushBoolean(false);
        co.NewTable();
        co.PushString(message);
        co.RawSetField(-2, "value");
        task.Succeeded = false;
        task.ErrorReport = message;
        task.State = LuaTaskState.Done;
        _liveTasks--;
        task.OnFinished?.Invoke(task, co);
        WakeAwaiters(task);
        if (!task.Awaited) OnTaskError(task);
    }

    static string ReadErrorReport(LuaState co)
    {
        if (co.TypeOf(2) != LuaType.Table) return co.ToStringValue(2) ?? "unknown error";
        var report = co.RawGetField(2, "traceback") == LuaType.String ? co.ToStringValue(-1) : null;
        co.Pop(1);
        return report ?? "unknown error";
    }

    void WakeAwaiters(LuaTask task)
    {
        if (task.Awaiters == null) return;
        foreach (var op in task.Awaiters)
        {
            if (_ops.Remove(op.Id) && op.Waiter is { State: LuaTaskState.Waiting } waiter)
                _ready.Enqueue((waiter, op, 0));
        }
        task.Awaiters = null;
    }

    void OnTaskError(LuaTask task)
    {
        if (ReferenceEquals(task, _main) || task.Detached) return; // the host reports those itself
        HadUnhandledErrors = true;
        UnhandledTaskError?.Invoke(task);
    }
}
