namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>async.spawn(fn, ...)</c> → handle with <c>await()</c>/<c>cancel()</c>/<c>interrupt()</c>, and
/// <c>async.spawn_interval(secs, fn)</c>. The natives live here; the handle objects and the
/// interval timer are Lua (prelude/async.lua) on top of spawn and sleep.
/// </summary>
public static class AsyncModule
{
    public static void Register(AssayRuntime rt)
    {
        var loop = rt.Vm.Loop;
        rt.RunPrelude("async", L =>
        {
            L.NewTable();
            rt.Vm.SetFunction(L, -1, "async.spawn", "spawn", call =>
            {
                call.CheckType(1, LuaType.Function, "function");
                var task = loop.Spawn(call.L, call.ArgCount - 1, "spawned task");
                call.L.PushInteger(task.Id);
                return 1;
            });
            rt.Vm.SetFunction(L, -1, "handle.await", "await", call => loop.AwaitTask(call, call.CheckInteger(1)));
            rt.Vm.SetFunction(L, -1, "handle.cancel", "cancel", call =>
            {
                call.L.PushBoolean(loop.Cancel(call.CheckInteger(1)));
                return 1;
            });
            rt.Vm.SetFunction(L, -1, "handle.interrupt", "interrupt", call =>
            {
                call.L.PushBoolean(loop.Interrupt(call.CheckInteger(1)));
                return 1;
            });
            rt.Vm.SetFunction(L, -1, "handle.release", "release", call =>
            {
                loop.Release(call.CheckInteger(1));
                return 0;
            });
            return 1;
        });
    }
}
