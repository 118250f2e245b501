using Assay.Lua;

namespace Assay.Runtime.Builtins.Http;

/// <summary>Raw field access with UTF-8 literal keys: no string encoding on the request hot path.</summary>
internal static class LuaKeys
{
    public static LuaType RawGetKey(this LuaState L, int table, ReadOnlySpan<byte> key)
    {
        table = L.AbsIndex(table);
        L.PushBytes(key);
        return L.RawGet(table);
    }

    /// <summary>table[key] = value on top (popped).</summary>
    public static void RawSetKey(this LuaState L, int table, ReadOnlySpan<byte> key)
    {
        table = L.AbsIndex(table);
        L.PushBytes(key);
        L.Insert(-2);
        L.RawSet(table);
    }
}
