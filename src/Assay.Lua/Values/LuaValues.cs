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
        int top = L.Top;
        try { return new Walk(L).Value(L.AbsIndex(idx)); }
        catch (LuaValueException)
        {
            // The walk is abandoned: only the stack needs restoring (no per-level handlers, see Walk).
            L.SetTop(top);
            throw;
        }
    }

    /// <summary>
    /// One conversion: the tables on the current path (cycle detection) and the key or index
    /// taken at each level (error paths). The path is recorded rather than rebuilt by catching
    /// and rethrowing at each level: nested exception dispatch 1000 levels deep overflows the stack.
    /// For the same reason no level catches: on error the whole walk is dropped.
    /// </summary>
    sealed class Walk(LuaState L)
    {
        readonly List<IntPtr> _tables = [];
        readonly List<object> _segments = [];   // long index or string key, per level

        public object? Value(int idx) => L.TypeOf(idx) switch
        {
            LuaType.Nil or LuaType.None => null,
            LuaType.Boolean => L.ToBoolean(idx),
            LuaType.Number => L.IsInteger(idx) ? (object)L.ToInteger(idx) : L.ToNumber(idx),
            LuaType.String => StringOrBytes(L.ToBytes(idx)),
            LuaType.LightUserData when L.ToUserData(idx) == IntPtr.Zero => LuaNull.Value,
            LuaType.Table => Table(idx),
            var t => throw Fail($"cannot convert a {LuaTables.TypeName(t)} value", _segments.Count),
        };

        LuaValueException Fail(string problem, int segments)
        {
            var e = new LuaValueException(problem);
            for (int i = segments - 1; i >= 0; i--)
                if (_segments[i] is long index) e.AtIndex(index);
                else e.AtKey(System.Text.Encoding.UTF8.GetBytes((string)_segments[i]));
            return e;
        }

        object Table(int idx)
        {
            int level = _segments.Count;
            if (_tables.Count >= LuaTables.MaxDepth)
                throw Fail($"nesting deeper than {LuaTables.MaxDepth} levels", level);
            var p = L.ToPointer(idx);
            if (_tables.Contains(p)) throw Fail("circular reference (a table contains itself)", level);
            if (!L.CheckStack(4)) throw Fail("Lua stack exhausted", level);
            _tables.Add(p);
            var result = Shape(idx, level);
            _tables.RemoveAt(_tables.Count - 1);
            return result;
        }

        /// <summary>Collects the entries, then decides list or map by keys and marker.</summary>
        object Shape(int idx, int level)
        {
            var marker = LuaTables.MarkerOf(L, idx);
            var entries = new List<(object Key, object? Value)>();
            bool positive = true;
            long max = 0;
            L.PushNil();
            while (L.Next(idx))
            {
                var key = Key(-2, level);
                if (key is long k && k >= 1) max = Math.Max(max, k); else positive = false;
                _segments.Add(key);
                entries.Add((key, Value(L.AbsIndex(-1))));
                _segments.RemoveAt(level);
                L.Pop(1);
            }
            if (entries.Count == 0)
                return marker == TableMarker.Object ? new OrderedDictionary<string, object?>() : new List<object?>();
            if (marker != TableMarker.Object && positive && (marker == TableMarker.Array || max == entries.Count))
                return ToList(entries, max, level);
            if (marker == TableMarker.Array)
                throw Fail("table marked as array has a key that is not a positive integer", level);
            return ToMap(entries, level);
        }

        object Key(int idx, int level) => L.TypeOf(idx) switch
        {
            LuaType.String => StringOrBytes(L.ToBytes(idx)) as string
                ?? throw Fail("invalid UTF-8 in table key", level),
            LuaType.Number when L.IsInteger(idx) => L.ToInteger(idx),
            LuaType.Number => LuaTables.NumberKey(L, idx),
            var t => throw Fail($"unsupported table key type ({LuaTables.TypeName(t)})", level),
        };

        List<object?> ToList(List<(object Key, object? Value)> entries, long max, int level)
        {
            if (max > 2L * entries.Count + 1000)
                throw Fail($"array too sparse (largest index {max}, {entries.Count} elements)", level);
            var list = new List<object?>(new object?[max]);
            foreach (var (key, value) in entries) list[(int)((long)key - 1)] = value;
            return list;
        }

        OrderedDictionary<string, object?> ToMap(List<(object Key, object? Value)> entries, int level)
        {
            var named = entries.Select(e => (Key: e.Key as string ?? ((long)e.Key).ToString(CultureInfo.InvariantCulture), e.Value))
                .OrderBy(e => e.Key, StringComparer.Ordinal);
            var map = new OrderedDictionary<string, object?>(entries.Count);
            foreach (var (key, value) in named)
                if (!map.TryAdd(key, value))
                    throw Fail($"duplicate object key \"{key}\" (a number key and a string key with the same text)", level);
            return map;
        }
    }

    static object StringOrBytes(ReadOnlySpan<byte> s) =>
        Utf8.IsValid(s) ? System.Text.Encoding.UTF8.GetString(s) : s.ToArray();

    // ------------------------------------------------------------------ .NET → Lua

    /// <summary>
    /// Pushes <paramref name="value"/> as a Lua value (the inverse of <see cref="ToClr(LuaState, int)"/>).
    /// Maps become tables; an empty map is marked as an object so it stays <c>{}</c> in JSON. Lists
    /// and other enumerables become arrays. Unsupported types and cycles are errors; on error
    /// nothing is left on the stack.
    /// </summary>
    public static void Push(LuaState L, object? value)
    {
        int top = L.Top;
        try { new Builder(L).Push(value); }
        catch (LuaValueException)
        {
            L.SetTop(top);
            throw;
        }
    }

    sealed class Builder(LuaState L)
    {
        readonly List<object> _containers = [];
        readonly List<object> _segments = [];

        LuaValueException Fail(string problem)
        {
            var e = new LuaValueException(problem);
            for (int i = _segments.Count - 1; i >= 0; i--)
                if (_segments[i] is long index) e.AtIndex(index);
                else e.AtKey(System.Text.Encoding.UTF8.GetBytes((string)_segments[i]));
            return e;
        }

        public void Push(object? value)
        {
            if (!L.CheckStack(4)) throw Fail("Lua stack exhausted");
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
                case IEnumerable<KeyValuePair<string, object?>> map: Map(map, value); break;
                case IDictionary dict:
                    Map(dict.Cast<DictionaryEntry>().Select(e => new KeyValuePair<string, object?>(
                        Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "", e.Value)), value);
                    break;
                case IEnumerable seq: List(seq); break;
                default: throw Fail($"cannot convert a value of type {value.GetType().Name}");
            }
        }

        void Enter(object container)
        {
            if (_containers.Count >= LuaTables.MaxDepth) throw Fail($"nesting deeper than {LuaTables.MaxDepth} levels");
            foreach (var c in _containers)
                if (ReferenceEquals(c, container)) throw Fail("circular reference (a collection contains itself)");
            _containers.Add(container);
        }

        void Map(IEnumerable<KeyValuePair<string, object?>> map, object container)
        {
            Enter(container);
            L.NewTable();
            bool empty = true;
            foreach (var (key, item) in map)
            {
                empty = false;
                _segments.Add(key);
                Push(item);
                _segments.RemoveAt(_segments.Count - 1);
                L.RawSetField(-2, key);
            }
            if (empty)
            {
                LuaTables.PushMarkerMetatable(L, TableMarker.Object);
                L.SetMetatable(-2);
            }
            _containers.RemoveAt(_containers.Count - 1);
        }

        void List(IEnumerable seq)
        {
            Enter(seq);
            L.NewTable();
            long i = 0;
            foreach (var item in seq)
            {
                _segments.Add(++i);
                // A null element becomes json.null: a nil would leave a hole and change the length.
                Push(item ?? LuaNull.Value);
                _segments.RemoveAt(_segments.Count - 1);
                L.RawSetIndex(-2, i);
            }
            _containers.RemoveAt(_containers.Count - 1);
        }
    }
}
