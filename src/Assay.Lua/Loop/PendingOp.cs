namespace Assay.Lua.Loop;

/// <summary>
/// Something a coroutine waits for. When it completes, <see cref="PushOutcome"/> pushes the
/// flag-and-results convention the C trampoline expects (true, values… | false, message | nil, value).
/// </summary>
public abstract class PendingOp
{
    internal long Id;
    internal LuaTask? Waiter;

    /// <summary>Pushes flag, results… onto the waiting stack; returns how many values it pushed.</summary>
    internal abstract int PushOutcome(LuaState L);

    /// <summary>True when the loop thread may block on this op (it needs nothing from the loop).</summary>
    internal virtual bool CanWaitSynchronously => true;
    internal virtual void WaitSynchronously() { }

    /// <summary>True while a .NET task is in flight: the loop may sleep waiting for it.</summary>
    internal virtual bool IsExternal => true;

    internal static int PushFailure(LuaState L, string message)
    {
        L.PushBoolean(false);
        L.PushString(message);
        return 2;
    }

    internal static string Describe(Exception e)
    {
        while (e is AggregateException { InnerException: not null } agg) e = agg.InnerException!;
        return e switch
        {
            TaskCanceledException or OperationCanceledException => "operation cancelled",
            _ => e.Message,
        };
    }
}

/// <summary>A .NET task whose result a builtin turns into Lua values.</summary>
public sealed class TaskOp<T>(Task<T> task, Func<LuaState, T, int> push, string name) : PendingOp
{
    internal Task<T> Task => task;

    internal override int PushOutcome(LuaState L) => Outcome(L, task, push, name);

    internal override void WaitSynchronously()
    {
        try { task.Wait(); } catch { /* surfaced by PushOutcome */ }
    }

    internal static int Outcome(LuaState L, Task<T> task, Func<LuaState, T, int> push, string name)
    {
        if (!task.IsCompletedSuccessfully)
            return PushFailure(L, $"{name}: {Describe(task.Exception ?? (Exception)new OperationCanceledException())}");
        int top = L.Top;
        L.PushBoolean(true);
        try
        {
            return 1 + push(L, task.Result);
        }
        catch (Exception e)
        {
            // as the dispatcher does: a complete message as is, any other problem named after the builtin
            L.SetTop(top);
            return PushFailure(L, e is LuaException ? e.Message : $"{name}: {e.Message}");
        }
    }
}
