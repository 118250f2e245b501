using Assay.Lua;

namespace Assay.Runtime.Builtins.Exec;

/// <summary>Helpers for reading option tables handed to builtins (raw access only).</summary>
static class LuaOptions
{
    /// <summary>Raises "NAME: unknown option 'x'" for keys outside <paramref name="known"/>.</summary>
    public static void CheckKeys(LuaCall call, int arg, string[] known)
    {
        var L = call.L;
        arg = L.AbsIndex(arg);
        L.CheckStack(3);
        L.PushNil();
        while (L.Next(arg))
        {
            var key = L.TypeOf(-2) == LuaType.String ? L.ToStringValue(-2) : null;
            if (key == null || Array.IndexOf(known, key) < 0)
            {
                var shown = key ?? $"[{call.TypeName(-2)}]";
                L.Pop(2);
                throw new LuaException($"{call.Name}: unknown option '{shown}' (known: {string.Join(", ", known)})");
            }
            L.Pop(1);
        }
    }

    /// <summary>Reads an optional timeout option in seconds (finite, ≥ 0).</summary>
    public static double? Timeout(LuaCall call, int arg, string key = "timeout")
    {
        var L = call.L;
        L.CheckStack(2);
        try
        {
            if (L.RawGetField(arg, key) == LuaType.Nil) return null;
            double t = L.TypeOf(-1) == LuaType.Number ? L.ToNumber(-1) : double.NaN;
            if (double.IsNaN(t) || double.IsInfinity(t) || t < 0 || t > 24 * 24 * 3600)
                throw new LuaException($"{call.Name}: option '{key}' must be a finite number of seconds >= 0");
            return t;
        }
        finally { L.Pop(1); }
    }
}
