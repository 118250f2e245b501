using Assay.Runtime.Builtins.Exec;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>process.run(argv, opts?)</c> (no shell), <c>process.list()</c>, <c>process.is_running(name)</c>,
/// <c>process.kill(pid, signal?)</c>, and <c>process.wait_idle(names, timeout?, interval?)</c>
/// (Lua, prelude/process.lua). Reference page: docs/modules/process.md.
/// </summary>
public static class ProcessModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("process",
            ("run", Run), ("list", List), ("is_running", IsRunning), ("kill", Kill));
        rt.RunPrelude("process");
    }

    static int Run(LuaCall call)
    {
        var L = call.L;
        call.CheckTable(1, "argv table");
        long n = (long)L.RawLength(1);
        if (n == 0) return call.Fail("argv is empty (argv[1] is the program)");
        var argv = new List<string>((int)n);
        L.CheckStack(2);
        for (long i = 1; i <= n; i++)
        {
            var t = L.RawGetIndex(1, i);
            if (t is not (LuaType.String or LuaType.Number))
                return call.Fail($"argv[{i}] must be a string, got {call.TypeName(-1)}");
            var s = L.ToStringValue(-1)!;
            if (s.Contains('\0')) return call.Fail($"argv[{i}] contains a NUL byte");
            argv.Add(s);
            L.Pop(1);
        }
        if (argv[0].Length == 0) return call.Fail("argv[1] (the program) is empty");
        var options = ExecOptions.Read(call, 2);
        var vm = call.Vm;
        var task = Task.Run(() => ChildProcess.RunAsync($"'{argv[0]}'", argv, options, vm, vm.Cancellation));
        return call.Await(task, static (L, r) => r.Push(L));
    }

    sealed record ProcInfo(int Pid, int Ppid, string Name, string Comm, string Cmdline, string? Exe);

    static int List(LuaCall call)
    {
        var task = Task.Run(ReadProcesses);
        return call.Await(task, static (L, list) =>
        {
            L.PushArray(list, static (L, p) =>
            {
                L.NewTable(0, 6);
                L.PushInteger(p.Pid); L.RawSetField(-2, "pid");
                L.PushInteger(p.Ppid); L.RawSetField(-2, "ppid");
                L.PushString(p.Name); L.RawSetField(-2, "name");
                L.PushString(p.Comm); L.RawSetField(-2, "comm");
                L.PushString(p.Cmdline); L.RawSetField(-2, "cmdline");
                if (p.Exe != null) { L.PushString(p.Exe); L.RawSetField(-2, "exe"); }
            });
            return 1;
        });
    }

    static int IsRunning(LuaCall call)
    {
        var name = call.CheckStrictString(1);
        if (name.Length == 0) return call.Fail("name is empty");
        var task = Task.Run(() => ReadProcesses().Any(p => Matches(p, name)));
        return call.Await(task, static (L, found) => { L.PushBoolean(found); return 1; });
    }

    /// <summary>A name matches the full program name (not the kernel's 15-byte comm), comm itself, or the executable's file name.</summary>
    static bool Matches(ProcInfo p, string name) =>
        p.Name == name || p.Comm == name || (p.Exe != null && Path.GetFileName(p.Exe) == name);

    static List<ProcInfo> ReadProcesses()
    {
        var list = new List<ProcInfo>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // pid (comm) state ppid … — comm may contain spaces and parentheses: use the last ')'.
                int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
                if (open < 0 || close < open) continue;
                var comm = stat[(open + 1)..close];
                var rest = stat[(close + 2)..].Split(' ');
                int ppid = rest.Length > 1 && int.TryParse(rest[1], CultureInfo.InvariantCulture, out var pp) ? pp : 0;
                var raw = File.ReadAllBytes(Path.Combine(dir, "cmdline"));
                var args = Encoding.UTF8.GetString(raw).TrimEnd('\0').Split('\0');
                string? exe = null;
                try { exe = new FileInfo(Path.Combine(dir, "exe")).LinkTarget; } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                if (exe != null && exe.EndsWith(" (deleted)", StringComparison.Ordinal)) exe = exe[..^10];
                list.Add(new ProcInfo(pid, ppid, FullName(comm, args, exe), comm, string.Join(' ', args), exe));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* exited meanwhile */ }
        }
        return list;
    }

    /// <summary>
    /// The kernel truncates comm to 15 bytes. When the executable's or argv[0]'s file name starts
    /// with comm, that longer name is the real one (scripts run by an interpreter keep comm).
    /// </summary>
    static string FullName(string comm, string[] args, string? exe)
    {
        if (comm.Length < 15) return comm;
        foreach (var candidate in new[] { args.Length > 0 ? Path.GetFileName(args[0].Split(' ')[0]) : null, exe == null ? null : Path.GetFileName(exe) })
            if (!string.IsNullOrEmpty(candidate) && candidate.StartsWith(comm, StringComparison.Ordinal)) return candidate;
        return comm;
    }

    static readonly Dictionary<string, int> Signals = new(StringComparer.OrdinalIgnoreCase)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["ILL"] = 4, ["TRAP"] = 5, ["ABRT"] = 6, ["BUS"] = 7,
        ["FPE"] = 8, ["KILL"] = 9, ["USR1"] = 10, ["SEGV"] = 11, ["USR2"] = 12, ["PIPE"] = 13,
        ["ALRM"] = 14, ["TERM"] = 15, ["CHLD"] = 17, ["CONT"] = 18, ["STOP"] = 19, ["TSTP"] = 20,
        ["TTIN"] = 21, ["TTOU"] = 22, ["URG"] = 23, ["XCPU"] = 24, ["XFSZ"] = 25, ["VTALRM"] = 26,
        ["PROF"] = 27, ["WINCH"] = 28, ["IO"] = 29, ["PWR"] = 30, ["SYS"] = 31,
    };

    static int Kill(LuaCall call)
    {
        var L = call.L;
        call.CheckType(1, LuaType.Number, "pid");
        if (!L.TryGetInteger(1, out long pid)) throw call.ArgError(1, "pid must be an integer");
        if (pid <= 0 || pid > int.MaxValue) return call.Fail($"pid must be > 0, got {pid}");
        int signal = 15;
        switch (L.TypeOf(2))
        {
            case LuaType.None or LuaType.Nil: break;
            case LuaType.Number:
                if (!L.TryGetInteger(2, out long s) || s < 0 || s > 64)
                    return call.Fail("signal must be an integer from 0 to 64 or a name like \"TERM\"");
                signal = (int)s;
                break;
            case LuaType.String:
                var name = L.ToStringValue(2)!;
                var bare = name.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? name[3..] : name;
                if (!Signals.TryGetValue(bare, out signal))
                    return call.Fail($"unknown signal '{name}'");
                break;
            default:
                throw call.TypeError(2, "signal name or number");
        }
        int errno = Native.Kill((int)pid, signal);
        // raising (not returning false) for a missing process is what the original does, and what
        // makes the usual liveness probe `pcall(process.kill, pid, 0)` work
        if (errno == Native.ESRCH) return call.Fail($"no such process (pid {pid})");
        if (errno != 0) return call.Fail($"failed to send signal {signal} to pid {pid}: {Native.ErrorText(errno)}");
        L.PushBoolean(true);
        return 1;
    }
}
