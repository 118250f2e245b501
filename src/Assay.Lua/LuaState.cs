using System.Text;
using static Assay.Lua.Interop.LuaNative;

namespace Assay.Lua;

public enum LuaType { None = -1, Nil = 0, Boolean = 1, LightUserData = 2, Number = 3, String = 4, Table = 5, Function = 6, UserData = 7, Thread = 8 }

/// <summary>
/// A view of one Lua thread's stack (the main state or a coroutine): typed reads and pushes that
/// never raise. Zero-cost wrapper over the raw pointer; valid only on the VM's loop thread.
/// </summary>
public readonly unsafe struct LuaState(IntPtr handle)
{
    public IntPtr Handle { get; } = handle;

    /// <summary>The registry pseudo-index (for raw access to registry fields).</summary>
    public const int RegistryIndex = LUA_REGISTRYINDEX;

    public int Top => lua_gettop(Handle);
    public void SetTop(int idx) => lua_settop(Handle, idx);
    public void Pop(int n) => lua_settop(Handle, -n - 1);
    public int AbsIndex(int idx) => lua_absindex(Handle, idx);
    public bool CheckStack(int n) => lua_checkstack(Handle, n) != 0;
    public void PushValue(int idx) => lua_pushvalue(Handle, idx);
    public void Insert(int idx) => lua_rotate(Handle, idx, 1);
    public void Remove(int idx) => lua_remove(Handle, idx);

    public LuaType TypeOf(int idx) => (LuaType)lua_type(Handle, idx);
    public bool IsNoneOrNil(int idx) => lua_type(Handle, idx) <= 0;
    public bool IsInteger(int idx) => lua_isinteger(Handle, idx) != 0;
    public bool ToBoolean(int idx) => lua_toboolean(Handle, idx) != 0;
    public double ToNumber(int idx) => lua_tonumberx(Handle, idx, null);
    public long ToInteger(int idx) => lua_tointegerx(Handle, idx, null);
    public IntPtr ToPointer(int idx) => lua_topointer(Handle, idx);
    public IntPtr ToUserData(int idx) => lua_touserdata(Handle, idx);
    public bool RawEqual(int a, int b) => lua_rawequal(Handle, a, b) != 0;

    public bool TryGetInteger(int idx, out long value)
    {
        int ok;
        value = lua_tointegerx(Handle, idx, &ok);
        return ok != 0;
    }

    /// <summary>The bytes of a string value (no conversion of numbers: that could allocate).</summary>
    public ReadOnlySpan<byte> ToBytes(int idx)
    {
        if (lua_type(Handle, idx) != (int)LuaType.String) return default;
        nuint len;
        var p = lua_tolstring(Handle, idx, &len);
        return new ReadOnlySpan<byte>(p, checked((int)len));
    }

    /// <summary>A string value decoded as UTF-8 (invalid bytes become U+FFFD); numbers formatted as Lua does.</summary>
    public string? ToStringValue(int idx) => TypeOf(idx) switch
    {
        LuaType.String => Encoding.UTF8.GetString(ToBytes(idx)),
        LuaType.Number => IsInteger(idx) ? ToInteger(idx).ToString(System.Globalization.CultureInfo.InvariantCulture) : LuaFormat.Number(ToNumber(idx)),
        _ => null,
    };

    public void PushNil() => lua_pushnil(Handle);
    public void PushBoolean(bool b) => lua_pushboolean(Handle, b ? 1 : 0);
    public void PushInteger(long n) => lua_pushinteger(Handle, n);
    public void PushNumber(double n) => lua_pushnumber(Handle, n);
    public void PushLightUserData(IntPtr p) => lua_pushlightuserdata(Handle, p);

    public void PushBytes(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes) lua_pushlstring(Handle, p == null ? (byte*)&p : p, (nuint)bytes.Length);
    }

    public void PushString(string s)
    {
        const int StackLimit = 512;
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (max <= StackLimit)
        {
            Span<byte> buf = stackalloc byte[StackLimit];
            int n = Encoding.UTF8.GetBytes(s, buf);
            PushBytes(buf[..n]);
            return;
        }
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(max);
        try { PushBytes(rented.AsSpan(0, Encoding.UTF8.GetBytes(s, rented))); }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(rented); }
    }

    public void NewTable(int narr = 0, int nrec = 0) => lua_createtable(Handle, narr, nrec);
    public LuaType RawGet(int tableIdx) => (LuaType)lua_rawget(Handle, tableIdx);
    public LuaType RawGetIndex(int tableIdx, long n) => (LuaType)lua_rawgeti(Handle, tableIdx, n);
    // Setters take the key typed: lua_rawset with a key from the stack raises on nil or NaN (a longjmp
    // out of a C# frame); a string or integer key cannot.
    public void RawSetIndex(int tableIdx, long n) => lua_rawseti(Handle, tableIdx, n);

    /// <summary>
    /// Pushes a new array (1..n) with one value per item; <paramref name="push"/> pushes exactly one
    /// value for its item (a record table, a string, ...).
    /// </summary>
    public void PushArray<T>(IReadOnlyList<T> items, Action<LuaState, T> push)
    {
        CheckStack(4);
        NewTable(items.Count, 0);
        for (int i = 0; i < items.Count; i++)
        {
            push(this, items[i]);
            RawSetIndex(-2, i + 1);
        }
    }
    public bool Next(int tableIdx) => lua_next(Handle, tableIdx) != 0;
    public ulong RawLength(int idx) => lua_rawlen(Handle, idx);
    public bool GetMetatable(int idx) => lua_getmetatable(Handle, idx) != 0;
    public void SetMetatable(int idx) => lua_setmetatable(Handle, idx);

    /// <summary>t[key] = value at top (raw); pops the value.</summary>
    public void RawSetField(int tableIdx, string key)
    {
        tableIdx = AbsIndex(tableIdx);
        PushString(key);
        Insert(-2);
        lua_rawset(Handle, tableIdx);
    }

    /// <summary>t[key] = value at top (raw), the key given as UTF-8 bytes (a literal: no encoding on hot paths); pops the value.</summary>
    public void RawSetField(int tableIdx, ReadOnlySpan<byte> key)
    {
        tableIdx = AbsIndex(tableIdx);
        PushBytes(key);
        Insert(-2);
        lua_rawset(Handle, tableIdx);
    }

    /// <summary>Pushes t[key] (raw) and returns its type.</summary>
    public LuaType RawGetField(int tableIdx, string key)
    {
        tableIdx = AbsIndex(tableIdx);
        PushString(key);
        return RawGet(tableIdx);
    }

    /// <summary>Pushes t[key] (raw), the key given as UTF-8 bytes, and returns its type.</summary>
    public LuaType RawGetField(int tableIdx, ReadOnlySpan<byte> key)
    {
        tableIdx = AbsIndex(tableIdx);
        PushBytes(key);
        return RawGet(tableIdx);
    }

    public void PushGlobalTable() => lua_rawgeti(Handle, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
}

/// <summary>Lua's own number formatting ("%.14g"), so values print the way Lua prints them.</summary>
public static class LuaFormat
{
    public static string Number(double d)
    {
        if (double.IsNaN(d)) return d > 0 ? "nan" : "-nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        var s = d.ToString("G14", System.Globalization.CultureInfo.InvariantCulture);
        if (s.Contains('E'))
        {
            // .NET writes E+15; C writes e+15.
            var parts = s.Split('E');
            var exp = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            s = parts[0] + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", System.Globalization.CultureInfo.InvariantCulture);
        }
        else if (!s.Contains('.') && !s.Contains('n') && !s.Contains('i'))
        {
            s += ".0";
        }
        return s;
    }
}
