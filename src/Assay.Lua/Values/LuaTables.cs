using System.Globalization;

namespace Assay.Lua.Values;

/// <summary>What a table asks to become: decided by its keys unless a marker forces it.</summary>
public enum TableMarker { None, Object, Array }

/// <summary>
/// The rules shared by every Lua → data conversion (json, yaml, toml, http, templates):
/// markers, and how keys become strings. Kept in one place so all modules agree.
/// </summary>
public static class LuaTables
{
    /// <summary>Metatable field naming the wanted shape (the name dkjson uses too).</summary>
    public const string ShapeField = "__jsontype";
    const string ObjectKey = "assay.json.object";
    const string ArrayKey = "assay.json.array";

    /// <summary>Maximum nesting of tables; deeper input is an error, never a stack overflow.</summary>
    public const int MaxDepth = 1000;

    /// <summary>
    /// Pushes the shared marker metatable (<c>{__jsontype = "object"|"array", __name = ...}</c>),
    /// creating it in the registry on first use. <c>json.object</c>/<c>json.array</c> set it.
    /// </summary>
    public static void PushMarkerMetatable(LuaState L, TableMarker marker)
    {
        var key = marker == TableMarker.Object ? ObjectKey : ArrayKey;
        L.CheckStack(3);
        if (L.RawGetField(LuaState.RegistryIndex, key) == LuaType.Table) return;
        L.Pop(1);
        L.NewTable(0, 2);
        L.PushString(marker == TableMarker.Object ? "object" : "array");
        L.RawSetField(-2, ShapeField);
        L.PushString(marker == TableMarker.Object ? "json.object" : "json.array");
        L.RawSetField(-2, "__name");
        L.PushValue(-1);
        L.RawSetField(LuaState.RegistryIndex, key);
    }

    /// <summary>The marker of the table at <paramref name="idx"/> (its metatable's __jsontype).</summary>
    public static TableMarker MarkerOf(LuaState L, int idx)
    {
        if (!L.GetMetatable(idx)) return TableMarker.None;
        L.CheckStack(2);
        var marker = TableMarker.None;
        if (L.RawGetField(-1, ShapeField) == LuaType.String)
        {
            var shape = L.ToBytes(-1);
            if (shape.SequenceEqual("object"u8)) marker = TableMarker.Object;
            else if (shape.SequenceEqual("array"u8)) marker = TableMarker.Array;
        }
        L.Pop(2);
        return marker;
    }

    /// <summary>
    /// Writes a float as the shortest text that reads back as the same double, keeping ".0" on
    /// integral values so that 1.0 re-parses as a float, not an integer. Returns bytes written.
    /// </summary>
    public static int FormatFloat(double d, Span<byte> dest)
    {
        d.TryFormat(dest, out int n, default, CultureInfo.InvariantCulture);
        bool hasPointOrExponent = false;
        for (int i = 0; i < n; i++)
        {
            if (dest[i] == (byte)'E') dest[i] = (byte)'e';
            if (dest[i] is (byte)'.' or (byte)'e') hasPointOrExponent = true;
        }
        if (!hasPointOrExponent)
        {
            dest[n++] = (byte)'.';
            dest[n++] = (byte)'0';
        }
        return n;
    }

    /// <summary>A numeric key as an object key: integers as digits, floats as <see cref="FormatFloat"/>.</summary>
    public static string NumberKey(LuaState L, int idx)
    {
        if (L.IsInteger(idx)) return L.ToInteger(idx).ToString(CultureInfo.InvariantCulture);
        var d = L.ToNumber(idx);
        if (double.IsNaN(d) || double.IsInfinity(d)) return LuaFormat.Number(d);
        Span<byte> buf = stackalloc byte[40];
        return System.Text.Encoding.ASCII.GetString(buf[..FormatFloat(d, buf)]);
    }

    internal static string TypeName(LuaType t) => t switch
    {
        LuaType.Nil => "nil",
        LuaType.Boolean => "boolean",
        LuaType.LightUserData or LuaType.UserData => "userdata",
        LuaType.Number => "number",
        LuaType.String => "string",
        LuaType.Table => "table",
        LuaType.Function => "function",
        LuaType.Thread => "thread",
        _ => "unknown",
    };
}
