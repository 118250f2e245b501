using System.Runtime.InteropServices;

namespace Assay.Runtime.Builtins;

/// <summary>
/// Keeps Lua's standard <c>os</c> whole (getenv, exit, remove, date…) and adds hostname/arch/
/// platform, a monotonic clock and Assay's version. <c>os.exit</c> is replaced so buffered output is flushed before the process ends.
/// </summary>
public static class OsModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("os",
            ("hostname", static call => { call.L.PushString(Environment.MachineName); return 1; }),
            ("arch", static call => { call.L.PushString(Arch()); return 1; }),
            ("platform", static call => { call.L.PushString(Platform()); return 1; }),
            // seconds on a clock that never jumps (wall-clock changes do not move it): for deadlines
            ("monotonic", static call => { call.L.PushNumber(System.Diagnostics.Stopwatch.GetTimestamp() / (double)System.Diagnostics.Stopwatch.Frequency); return 1; }),
            ("assay_version", static call => { call.L.PushString(AssayVersion.Number); return 1; }),
            ("exit", call => Exit(rt, call)),
            ("on_signal", call => OnSignal(rt, call)));
        rt.RunPrelude("os");
    }

    // os.on_signal(name, fn|nil): "TERM"/"INT"/"HUP"/"QUIT" (with or without "SIG"). While a
    // handler is set, the signal no longer ends the process; each delivery runs fn(name) as its
    // own task on the loop. nil removes the handler (the default action returns).
    const string HandlersKey = "assay.os.signal_handlers";
    static readonly Dictionary<string, PosixSignalRegistration> SignalRegistrations = new();

    static int OnSignal(AssayRuntime rt, LuaCall call)
    {
        var L = call.L;
        string raw = call.CheckString(1).ToUpperInvariant();
        string name = raw.StartsWith("SIG", StringComparison.Ordinal) ? raw[3..] : raw;
        PosixSignal sig = name switch
        {
            "TERM" => PosixSignal.SIGTERM,
            "INT" => PosixSignal.SIGINT,
            "HUP" => PosixSignal.SIGHUP,
            "QUIT" => PosixSignal.SIGQUIT,
            _ => throw call.ArgError(1, "unsupported signal '" + raw + "' (TERM, INT, HUP, QUIT)"),
        };
        bool remove = L.IsNoneOrNil(2);
        if (!remove) call.CheckType(2, LuaType.Function, "function");
        if (L.RawGetField(LuaState.RegistryIndex, HandlersKey) != LuaType.Table)
        {
            L.Pop(1);
            L.NewTable();
            L.PushValue(-1);
            L.RawSetField(LuaState.RegistryIndex, HandlersKey);
        }
        if (remove) L.PushNil(); else L.PushValue(2);
        L.RawSetField(-2, name);
        L.Pop(1);
        lock (SignalRegistrations)
        {
            if (SignalRegistrations.Remove(name, out var old)) old.Dispose();
            if (!remove)
            {
                var vm = rt.Vm;
                SignalRegistrations[name] = PosixSignalRegistration.Create(sig, ctx =>
                {
                    ctx.Cancel = true;
                    vm.Loop.Post(() =>
                    {
                        var M = vm.Main;
                        if (M.RawGetField(LuaState.RegistryIndex, HandlersKey) != LuaType.Table) { M.Pop(1); return; }
                        if (M.RawGetField(-1, name) != LuaType.Function) { M.Pop(2); return; }
                        M.Remove(-2);
                        M.PushString(name);
                        vm.Loop.Spawn(M, 1, "signal handler");
                    });
                });
            }
        }
        return 0;
    }

    static string Arch() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "aarch64",
        Architecture.X86 => "x86",
        Architecture.Arm => "arm",
        var a => a.ToString().ToLowerInvariant(),
    };

    static string Platform() =>
        OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "macos" : OperatingSystem.IsWindows() ? "windows" : "unknown";

    static int Exit(AssayRuntime rt, LuaCall call)
    {
        int code = call.L.TypeOf(1) switch
        {
            LuaType.None or LuaType.Nil => 0,
            LuaType.Boolean => call.L.ToBoolean(1) ? 0 : 1,
            _ => (int)call.CheckInteger(1),
        };
        rt.Vm.FlushOutput();
        Console.Out.Flush();
        Console.Error.Flush();
        Environment.Exit(code);
        return 0;
    }
}
