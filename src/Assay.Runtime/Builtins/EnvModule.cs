using System.Collections;

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
                call.L.PushArray(entries, static (L, e) =>
                {
                    L.NewTable(0, 2);
                    L.PushString((string)e.Key);
                    L.RawSetField(-2, "key");
                    L.PushString((string?)e.Value ?? "");
                    L.RawSetField(-2, "value");
                });
                return 1;
            }));
    }
}
