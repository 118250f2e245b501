using System.Collections;
using System.Globalization;
using System.Text.Unicode;

namespace Assay.Lua.Values;

/// <summary>
/// The Lua ⇄ .NET value bridge shared by builtins (yaml, toml, http, db, templates).
/// <para>.NET model of a Lua value:</para>
/// <list type="bullet">
/// <item>nil → <c>null</c>; <c>json.null</c> → <see cref="LuaNull.Value"/>; boolean → <c>bool</c>;</item>
/// <item>integer → <c>long</c>, float → <c>double</c> (integers stay integers);</item>
/// <item>string → <c>string</c> when valid UTF-8, else <c>byte[]</c> (binary-safe both ways);</item>
/// <item>table → <c>List&lt;object?&gt;</c> iff its keys are exactly 1..n (an empty table is a list
/// unless marked with json.object), else <c>OrderedDictionary&lt;string, object?&gt;</c> with keys
/// sorted ordinally (number keys stringified); json.object/json.array markers force the shape.</item>
/// </list>
/// Functions, userdata and threads, cycles and nesting deeper than <see cref="LuaTables.MaxDepth"/>
/// are <see cref="LuaValueException"/>s naming the path to the value.
/// </summary>
public static class LuaValues
{
    // ------------------------------------------------------------------ Lua → .NET

    /// <summary>Converts the Lua value at <paramref name="idx"/> (the stack is left unchanged).</summary>
    public static object? ToClr(LuaState L, int idx)
    {
        var path = new List<IntPtr>();
        return ToClr(L, L.AbsIndex(idx), path);
    }

    static object? ToClr(LuaState L, int idx, List<IntPtr> path) => L.TypeOf(idx) switch
    {
        LuaType.Nil or LuaType.None => null,
        LuaType.Boolean => L.ToBoolean(idx),
        LuaType.Number => L.IsInteger(idx) ? L.ToInteger(idx) : L.ToNumber(idx),
        LuaType.String => StringOrBytes(L.ToBytes(idx)),
        LuaType.LightUserData when L.ToUserData(idx) == IntPtr.Zero => LuaNull.Value,
        LuaType.Table => TableToClr(L, idx, path),
        var t => throw new LuaValueException($"cannot convert a {LuaTables.TypeName(t)} value"),
    };

    static object StringOrBytes(ReadOnlySpan<byte> s) =>
        Utf8.IsValid(s) ? System.Text.Encoding.UTF8.GetString(s) : s.ToArray();

    static object TableToClr(LuaState L, int idx, List<IntPtr> path)
    {
        if (path.Count >= LuaTables.MaxDepth)
            throw new LuaValueException($"nesting deeper than {LuaTables.MaxDepth} levels");
        var p = L.ToPointer(idx);
        if (path.Contains(p)) throw new LuaValueException("circular reference (a table contains itself)");
        if (!L.CheckStack(4)) throw new LuaValueException("Lua stack exhausted");
        path.Add(p);
        int top = L.Top;
        try
        {
            var marker = LuaTables.MarkerOf(L, idx);
            var entries = new List<(object Key, object? Value)>();
            bool positive = true;
            long max = 0;
            L.PushNil();
            while (L.Next(idx))
            {
                var key = KeyToClr(L, -2);
                if (key is long k && k >= 1) max = Math.Max(max, k); else positive = false;
                object? value;
                try { value = ToClr(L, L.AbsIndex(-1), path); }
                catch (LuaValueException e) { throw key is long i ? e.AtIndex(i) : e.AtKey(KeyBytes(key)); }
                entries.Add((key, value));
                L.Pop(1);
            }
            if (entries.Count == 0) return marker == TableMarker.Object ? new OrderedDictionary<string, object?>() : new List<object?>();
            if (marker != TableMarker.Object && positive && (marker == TableMarker.Array || max == entries.Count))
                return ToList(entries, max);
            if (marker == TableMarker.Array)
                throw new LuaValueException("table marked as array has a key that is not a positive integer");
            return ToMap(entries);
        }
        catch (LuaValueException)
        {
            L.SetTop(top);
            throw;
        }
        finally { path.RemoveAt(path.Count - 1); }
    }

    static object KeyToClr(LuaState L, int idx) => L.TypeOf(idx) switch
    {
        LuaType.String => StringOrBytes(L.ToBytes(idx)) as string
            ?? throw new LuaValueException("invalid UTF-8 in table key"),
        LuaType.Number when L.IsInteger(idx) => L.ToInteger(idx),
        LuaType.Number => LuaTables.NumberKey(L, idx),
        var t => throw new LuaValueException($"unsupported table key type ({LuaTables.TypeName(t)})"),
    };

    static byte[] KeyBytes(object key) => System.Text.Encoding.UTF8.GetBytes(Convert.ToString(key, CultureInfo.InvariantCulture)!);

    static List<object?> ToList(List<(object Key, object? Value)> entries, long max)
    {
        if (max > 2L * entries.Count + 1000)
            throw new LuaValueException($"array too sparse (largest index {max}, {entries.Count} elements)");
        var list = new List<object?>(new object?[max]);
        foreach (var (key, value) in entries) list[(int)((long)key - 1)] = value;
        return list;
    }

    static OrderedDictionary<string, object?> ToMap(List<(object Key, object? Value)> entries)
    {
        var named = entries.Select(e => (Key: e.Key as string ?? ((long)e.Key).ToString(CultureInfo.InvariantCulture), e.Value))
            .OrderBy(e => e.Key, StringComparer.Ordinal);
        var map = new OrderedDictionary<string, object?>(entries.Count);
        foreach (var (key, value) in named)
            if (!map.TryAdd(key, value))
                throw new LuaValueException($"duplicate object key \"{key}\" (a number key and a string key with the same text)");
        return map;
    }

    // ------------------------------------------------------------------ .NET → Lua

    /// <summary>
    /// Pushes <paramref name="value"/> as a Lua value (the inverse of <see cref="ToClr(LuaState, int)"/>).
    /// Maps become tables; an empty map is marked as an object so it stays <c>{}</c> in JSON. Lists
    /// and other enumerables become arrays. Unsupported types and cycles are errors.
    /// </summary>
    public static void Push(LuaState L, object? value)
    {
        var path = new List<object>();
        Push(L, value, path);
    }

    static void Push(LuaState L, object? value, List<object> path)
    {
        if (!L.CheckStack(4)) throw new LuaValueException("Lua stack exhausted");
        switch (value)
        {
            case null: L.PushNil(); break;
            case LuaNull: LuaNull.Push(L); break;
            case bool b: L.PushBoolean(b); break;
            case string s: L.PushString(s); break;
            case byte[] bytes: L.PushBytes(bytes); break;
            case ReadOnlyMemory<byte> rom: L.PushBytes(rom.Span); break;
            case Memory<byte> mem: L.PushBytes(mem.Span); break;
            case char c: L.PushString(c.ToString()); break;
            case long or int or short or sbyte or byte or ushort or uint: L.PushInteger(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case ulong u: if (u <= long.MaxValue) L.PushInteger((long)u); else L.PushNumber(u); break;
            case double or float or decimal or Half: L.PushNumber(Convert.ToDouble(value, CultureInfo.InvariantCulture)); break;
            case DateTimeOffset dto: L.PushString(dto.ToString("O", CultureInfo.InvariantCulture)); break;
            case DateTime dt: L.PushString(dt.ToString("O", CultureInfo.InvariantCulture)); break;
            case Guid g: L.PushString(g.ToString()); break;
            case Enum e: L.PushString(e.ToString()); break;
            case IEnumerable<KeyValuePair<string, object?>> map: PushMap(L, map, value, path); break;
            case IDictionary dict: PushMap(L, dict.Cast<DictionaryEntry>().Select(e => new KeyValuePair<string, object?>(Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "", e.Value)), value, path); break;
            case IEnumerable seq: PushList(L, seq, path); break;
            default: throw new LuaValueException($"cannot convert a value of type {value.GetType().Name}");
        }
    }

    static void Enter(List<object> path, object container)
    {
        if (path.Count >= LuaTables.MaxDepth) throw new LuaValueException($"nesting deeper than {LuaTables.MaxDepth} levels");
        foreach (var p in path)
            if (ReferenceEquals(p, container)) throw new LuaValueException("circular reference (a collection contains itself)");
        path.Add(container);
    }

    static void PushMap(LuaState L, IEnumerable<KeyValuePair<string, object?>> map, object container, List<object> path)
    {
        Enter(path, container);
        try
        {
            L.NewTable();
            bool empty = true;
            foreach (var (key, item) in map)
            {
                empty = false;
                L.PushString(key);
                try { Push(L, item, path); }
                catch (LuaValueException e) { L.Pop(1); throw e.AtKey(System.Text.Encoding.UTF8.GetBytes(key)); }
                L.RawSet(-3);
            }
            if (empty)
            {
                LuaTables.PushMarkerMetatable(L, TableMarker.Object);
                L.SetMetatable(-2);
            }
        }
        catch (LuaValueException) { L.Pop(1); throw; }
        finally { path.RemoveAt(path.Count - 1); }
    }

    static void PushList(LuaState L, IEnumerable seq, List<object> path)
    {
        Enter(path, seq);
        try
        {
            L.NewTable();
            long i = 0;
            foreach (var item in seq)
            {
                i++;
                try { Push(L, item, path); }
                catch (LuaValueException e) { throw e.AtIndex(i); }
                L.RawSetIndex(-2, i);
            }
        }
        catch (LuaValueException) { L.Pop(1); throw; }
        finally { path.RemoveAt(path.Count - 1); }
    }
}
