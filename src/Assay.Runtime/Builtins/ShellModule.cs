using Assay.Runtime.Builtins.Exec;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>shell.exec(cmd, opts?)</c> → <c>{status, stdout, stderr, timed_out}</c>: runs
/// <c>/bin/sh -c cmd</c> off the loop thread (the calling coroutine waits, others keep running).
/// Options: cwd, env (added; false removes), clear_env, stdin, timeout (kills the whole tree and
/// returns partial output). Reference page: docs/modules/shell.md.
/// </summary>
public static class ShellModule
{
    public static void Register(AssayRuntime rt) =>
        rt.Vm.RegisterModule("shell", ("exec", Exec));

    static int Exec(LuaCall call)
    {
        var cmd = call.CheckStrictString(1);
        if (cmd.Contains('\0')) throw call.ArgError(1, "command contains a NUL byte");
        var options = ExecOptions.Read(call, 2);
        var vm = call.Vm;
        var task = Task.Run(() => ChildProcess.RunAsync("/bin/sh", ["/bin/sh", "-c", cmd], options, vm, vm.Cancellation));
        return call.Await(task, static (L, r) => r.Push(L));
    }
}
