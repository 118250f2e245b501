using static Assay.Lua.Interop.LuaNative;

namespace Assay.Lua.Loop;

public enum LuaTaskState { Ready, Waiting, Done, Cancelled }

/// <summary>
/// One execution driven by the event loop: a Lua thread (coroutine) kept alive by a registry
/// reference. The main chunk, every <c>async.spawn</c> and every request handler is one.
/// </summary>
public sealed class LuaTask
{
    internal LuaTask(long id, IntPtr thread, int registryRef, string name, bool detached)
    {
        Id = id;
        Thread = thread;
        RegistryRef = registryRef;
        Name = name;
        Detached = detached;
    }

    public long Id { get; }
    public string Name { get; }
    internal IntPtr Thread { get; }
    internal int RegistryRef { get; set; }
    /// <summary>No handle refers to a detached task: its results are dropped when it ends.</summary>
    internal bool Detached { get; }
    public LuaTaskState State { get; internal set; } = LuaTaskState.Ready;
    public bool Succeeded { get; internal set; }
    /// <summary>For a failed task: the message with its Lua traceback.</summary>
    public string? ErrorReport { get; internal set; }
    internal bool Awaited { get; set; }
    internal PendingOp? WaitingOn { get; set; }
    internal List<TaskAwaitOp>? Awaiters { get; set; }
    internal CancellationTokenSource? Cancellation { get; set; }
    /// <summary>Called on the loop thread when the task ends (servers use it to answer the request).</summary>
    public Action<LuaTask, LuaState>? OnFinished { get; set; }

    public bool IsFinished => State is LuaTaskState.Done or LuaTaskState.Cancelled;

    /// <summary>The task's own results after it finished: index 1 is xpcall's status.</summary>
    internal LuaState Stack => new(Thread);
}

/// <summary>Waiting for another Lua task (async handle :await()).</summary>
internal sealed class TaskAwaitOp(LuaTask target, Action<LuaTask> release) : PendingOp
{
    internal LuaTask Target => target;
    internal override bool IsExternal => false;
    internal override bool CanWaitSynchronously => false;

    internal override int PushOutcome(LuaState L)
    {
        int n = PushTaskOutcome(L, target);
        release(target);
        return n;
    }

    /// <summary>
    /// A finished task's outcome: true + an array of its results (the original's handle.await()
    /// shape), or nil + the original error value (re-raised unchanged).
    /// </summary>
    internal static int PushTaskOutcome(LuaState L, LuaTask target)
    {
        if (target.State == LuaTaskState.Cancelled)
        {
            L.PushBoolean(false);
            L.PushString("task was cancelled");
            return 2;
        }
        var src = target.Stack;
        int n = src.Top;
        L.CheckStack(n + 4);
        if (target.Succeeded)
        {
            L.PushBoolean(true);
            L.NewTable(n - 1, 0);
            for (int i = 2; i <= n; i++)
            {
                lua_pushvalue(src.Handle, i);
                lua_xmove(src.Handle, L.Handle, 1);
                L.RawSetIndex(-2, i - 1);
            }
            return 2;
        }
        L.PushNil();
        lua_pushvalue(src.Handle, 2);
        lua_xmove(src.Handle, L.Handle, 1);
        // Normally the ErrorBox task_main's handler made: re-raise its original value. A task that
        // ran out of memory has a bare string instead ("not enough memory": Lua does not run the
        // handler for a memory error, nor when the handler itself fails), raised as it is.
        if (L.TypeOf(-1) != LuaType.Table) return 2;
        var box = L.AbsIndex(-1);
        L.RawGetField(box, "value");
        L.Remove(box);
        return 2;
    }
}
