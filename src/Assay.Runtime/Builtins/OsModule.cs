using System.Runtime.InteropServices;
using Assay.Lua;

namespace Assay.Runtime.Builtins;

/// <summary>
/// Keeps Lua's standard <c>os</c> whole (getenv, exit, remove, date…) and adds hostname/arch/
/// platform. <c>os.exit</c> is replaced so buffered output is flushed before the process ends.
/// </summary>
public static class OsModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("os",
            ("hostname", static call => { call.L.PushString(Environment.MachineName); return 1; }),
            ("arch", static call => { call.L.PushString(Arch()); return 1; }),
            ("platform", static call => { call.L.PushString(Platform()); return 1; }),
            ("exit", call => Exit(rt, call)));
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
