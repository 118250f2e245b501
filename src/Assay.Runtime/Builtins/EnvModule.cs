using System.Collections;
using Assay.Lua;

namespace Assay.Runtime.Builtins;

/// <summary><c>env.get/set/list</c>: the process environment (inherited by child processes).</summary>
public static class EnvModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("env",
            ("get", call =>
            {
                var name = call.CheckString(1);
                var value = rt.Options.EnvironmentOverlay?.GetValueOrDefault(name) ?? Environment.GetEnvironmentVariable(name);
                if (value == null) call.L.PushNil(); else call.L.PushString(value);
                return 1;
            }),
            ("set", static call =>
            {
                var name = call.CheckString(1);
                if (name.Length == 0 || name.Contains('=') || name.Contains('\0'))
                    return call.Fail($"invalid variable name '{name}'");
                LuaVm.SetEnvironmentVariable(name, call.OptString(2));
                return 0;
            }),
            ("list", static call =>
            {
                var entries = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
                    .OrderBy(e => (string)e.Key, StringComparer.Ordinal).ToList();
                call.L.CheckStack(4);
                call.L.NewTable(entries.Count, 0);
                int i = 0;
                foreach (var e in entries)
                {
                    call.L.NewTable(0, 2);
                    call.L.PushString((string)e.Key);
                    call.L.RawSetField(-2, "key");
                    call.L.PushString((string?)e.Value ?? "");
                    call.L.RawSetField(-2, "value");
                    call.L.RawSetIndex(-2, ++i);
                }
                return 1;
            }));
    }
}
