using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Unicode;
using static Assay.Lua.Values.LuaFast;

namespace Assay.Lua.Values;

/// <summary>How <see cref="JsonEncoder"/> lays out its output.</summary>
public readonly record struct JsonEncodeOptions(bool Pretty = false, int Indent = 2);

/// <summary>
/// Lua value → JSON text, straight from the Lua stack into a UTF-8 buffer (no intermediate
/// object graph). Rules (docs/modules/json.md "Lua → JSON"): a table is an array iff its keys are exactly
/// 1..n; an empty table is <c>[]</c> unless marked with json.object; markers force a shape;
/// object keys come out sorted by bytes (deterministic output); integers stay exact; floats use
/// the shortest round-trip form and keep ".0"; strings must be valid UTF-8 and are written raw
/// (only <c>"</c>, <c>\</c> and control characters are escaped); cycles, excessive depth, NaN/inf
/// and functions/userdata/threads are errors naming the path to the value.
/// <para>
/// Why not Utf8JsonWriter: it escapes every character outside the BMP (emoji become surrogate
/// escapes) and re-validates what we already validated; the format here is simple and the
/// writer below is faster. Parsing does use Utf8JsonReader (see <see cref="JsonDecoder"/>).
/// </para>
/// </summary>
public sealed unsafe class JsonEncoder
{
    const int LuaTNil = 0, LuaTBoolean = 1, LuaTLightUserData = 2, LuaTNumber = 3, LuaTString = 4, LuaTTable = 5;
    const int RetainedBufferLimit = 1 << 20;

    static readonly SearchValues<byte> NeedsEscape = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(b => (byte)b), (byte)'"', (byte)'\\']);

    [ThreadStatic] static JsonEncoder? t_cached;

    byte[] _buf = new byte[4096];
    int _pos;
    byte[] _scratch = new byte[256];   // numeric object keys, formatted (stack discipline per level)
    int _scratchPos;
    KeyEntry[] _keys = new KeyEntry[64];
    int _keyCount;
    IntPtr[] _path = new IntPtr[32];   // tables being encoded, outermost first: cycle detection
    Segment[] _segments = new Segment[32]; // which child of _path[d] is being encoded (error paths)
    int _depth;
    IntPtr _L;
    JsonEncodeOptions _options;

    /// <summary>Encodes the value at <paramref name="idx"/> and pushes the JSON text as a string.</summary>
    public static void Push(LuaState L, int idx, JsonEncodeOptions options = default)
    {
        var encoder = Rent();
        try
        {
            encoder.Run(L, idx, options);
            L.PushBytes(encoder._buf.AsSpan(0, encoder._pos));
        }
        finally { Return(encoder); }
    }

    /// <summary>Encodes the value at <paramref name="idx"/> to UTF-8 bytes (request bodies etc.).</summary>
    public static byte[] Encode(LuaState L, int idx, JsonEncodeOptions options = default)
    {
        var encoder = Rent();
        try
        {
            encoder.Run(L, idx, options);
            return encoder._buf.AsSpan(0, encoder._pos).ToArray();
        }
        finally { Return(encoder); }
    }

    static JsonEncoder Rent()
    {
        var e = t_cached ?? new JsonEncoder();
        t_cached = null;
        return e;
    }

    static void Return(JsonEncoder e)
    {
        e._L = IntPtr.Zero;
        if (e._buf.Length > RetainedBufferLimit) e._buf = new byte[4096];
        t_cached = e;
    }

    void Run(LuaState L, int idx, JsonEncodeOptions options)
    {
        _L = L.Handle;
        _options = options with { Indent = Math.Clamp(options.Indent, 0, 16) };
        _pos = _scratchPos = _keyCount = _depth = 0;
        int top = lua_gettop(_L);
        try
        {
            if (!L.CheckStack(8)) throw new LuaValueException("Lua stack exhausted");
            Value(L.AbsIndex(idx));
        }
        finally { lua_settop(_L, top); }
    }

    // ------------------------------------------------------------------ values

    void Value(int idx)
    {
        switch (lua_type(_L, idx))
        {
            case LuaTNil: Raw("null"u8); break;
            case LuaTBoolean: Raw(lua_toboolean(_L, idx) != 0 ? "true"u8 : "false"u8); break;
            case LuaTNumber: Number(idx); break;
            case LuaTString: String(idx); break;
            case LuaTTable: Table(idx); break;
            case LuaTLightUserData when lua_touserdata(_L, idx) == IntPtr.Zero: Raw("null"u8); break;
            case var t: throw Fail($"cannot encode a {LuaTables.TypeName((LuaType)t)} value");
        }
    }

    void Number(int idx)
    {
        Ensure(40);
        if (lua_isinteger(_L, idx) != 0)
        {
            lua_tointegerx(_L, idx, null).TryFormat(_buf.AsSpan(_pos), out int n, default, System.Globalization.CultureInfo.InvariantCulture);
            _pos += n;
            return;
        }
        double d = lua_tonumberx(_L, idx, null);
        if (double.IsNaN(d) || double.IsInfinity(d))
            throw Fail($"cannot encode {LuaFormat.Number(d)} as a JSON number");
        _pos += LuaTables.FormatFloat(d, _buf.AsSpan(_pos));
    }

    void String(int idx)
    {
        nuint len;
        byte* p = lua_tolstring(_L, idx, &len);
        var s = new ReadOnlySpan<byte>(p, checked((int)len));
        if (!Utf8.IsValid(s)) throw Fail("invalid UTF-8 in string");
        Quoted(s);
    }

    void Quoted(ReadOnlySpan<byte> s)
    {
        Ensure(s.Length + 2);
        _buf[_pos++] = (byte)'"';
        while (true)
        {
            int i = s.IndexOfAny(NeedsEscape);
            if (i < 0) { Raw(s); break; }
            Raw(s[..i]);
            Escape(s[i]);
            s = s[(i + 1)..];
        }
        Byte((byte)'"');
    }

    void Escape(byte b)
    {
        ReadOnlySpan<byte> hex = "0123456789abcdef"u8;
        Ensure(6);
        _buf[_pos++] = (byte)'\\';
        switch (b)
        {
            case (byte)'"': _buf[_pos++] = (byte)'"'; break;
            case (byte)'\\': _buf[_pos++] = (byte)'\\'; break;
            case (byte)'\n': _buf[_pos++] = (byte)'n'; break;
            case (byte)'\r': _buf[_pos++] = (byte)'r'; break;
            case (byte)'\t': _buf[_pos++] = (byte)'t'; break;
            case (byte)'\b': _buf[_pos++] = (byte)'b'; break;
            case (byte)'\f': _buf[_pos++] = (byte)'f'; break;
            default:
                _buf[_pos++] = (byte)'u'; _buf[_pos++] = (byte)'0'; _buf[_pos++] = (byte)'0';
                _buf[_pos++] = hex[b >> 4]; _buf[_pos++] = hex[b & 15];
                break;
        }
    }

    // ------------------------------------------------------------------ tables

    void Table(int idx)
    {
        EnterTable(idx);
        try
        {
            var marker = TableMarker.None;
            if (lua_getmetatable(_L, idx) != 0)
            {
                lua_settop(_L, -2);
                marker = LuaTables.MarkerOf(new LuaState(_L), idx);
            }
            long n = marker == TableMarker.None ? (long)lua_rawlen(_L, idx) : 0;
            if (n > 0 && TrySequence(idx, n)) return;
            Generic(idx, marker);
        }
        finally { _depth--; }
    }

    void EnterTable(int idx)
    {
        if (_depth >= LuaTables.MaxDepth)
            throw Fail($"nesting deeper than {LuaTables.MaxDepth} levels");
        var p = lua_topointer(_L, idx);
        // The path is short in practice; a linear scan beats hashing every table.
        for (int i = 0; i < _depth; i++)
            if (_path[i] == p) throw Fail("circular reference (a table contains itself)");
        if (_depth == _path.Length)
        {
            Array.Resize(ref _path, _path.Length * 2);
            Array.Resize(ref _segments, _path.Length);
        }
        _path[_depth++] = p;
        if (!new LuaState(_L).CheckStack(8)) throw Fail("Lua stack exhausted", tableLevel: true);
    }

    /// <summary>
    /// The fast path for a plain sequence: rawlen is n and no key follows n in traversal order.
    /// A hole met on the way means the table is not dense: rewind and let Generic decide.
    /// </summary>
    bool TrySequence(int idx, long n)
    {
        lua_pushinteger(_L, n);
        if (lua_next(_L, idx) != 0)
        {
            lua_settop(_L, -3);
            return false;
        }
        int start = _pos;
        Byte((byte)'[');
        for (long i = 1; i <= n; i++)
        {
            if (i > 1) Byte((byte)',');
            NewLine(_depth);
            if (lua_rawgeti(_L, idx, i) == LuaTNil)
            {
                lua_settop(_L, -2);
                _pos = start;
                return false;
            }
            Element(i);
        }
        NewLine(_depth - 1);
        Byte((byte)']');
        return true;
    }

    /// <summary>Encodes the array element on top of the stack and pops it.</summary>
    void Element(long i)
    {
        _segments[_depth - 1] = new Segment(i, -1);
        Value(lua_gettop(_L));
        lua_settop(_L, -2);
    }

    /// <summary>
    /// One traversal that records every key and leaves every value on the stack, then decides:
    /// dense 1..n (or marked array) → array, anything else → object with sorted keys.
    /// </summary>
    void Generic(int idx, TableMarker marker)
    {
        int top = lua_gettop(_L), keyBase = _keyCount, scratchBase = _scratchPos;
        try
        {
            var (count, maxIndex, positiveIntegers) = Collect(idx);
            if (count == 0)
                Raw(marker == TableMarker.Object ? "{}"u8 : "[]"u8);
            else if (marker != TableMarker.Object && positiveIntegers && (marker == TableMarker.Array || maxIndex == count))
                ArrayOf(idx, count, maxIndex);
            else if (marker == TableMarker.Array)
                throw Fail("table marked as array has a key that is not a positive integer", tableLevel: true);
            else
                ObjectOf(keyBase, count);
        }
        finally
        {
            lua_settop(_L, top);
            _keyCount = keyBase;
            _scratchPos = scratchBase;
        }
    }

    (int Count, long MaxIndex, bool PositiveIntegers) Collect(int idx)
    {
        int count = 0, reserved = 0;
        long max = 0;
        bool positive = true;
        lua_pushnil(_L);
        while (lua_next(_L, idx) != 0)
        {
            // stack: ... values, key, value → keep the value below the key for the next lua_next
            ref var e = ref NewKey();
            e.Slot = lua_gettop(_L) - 1;
            switch (lua_type(_L, -2))
            {
                case LuaTString:
                    nuint len;
                    e.Ptr = lua_tolstring(_L, -2, &len);
                    e.Length = checked((int)len);
                    positive = false;
                    break;
                case LuaTNumber when lua_isinteger(_L, -2) != 0:
                    long k = lua_tointegerx(_L, -2, null);
                    if (k < 1) positive = false; else if (k > max) max = k;
                    e.Ptr = null;
                    e.Integer = k;
                    e.IsFloat = false;
                    break;
                case LuaTNumber:
                    positive = false;
                    e.Ptr = null;
                    e.Float = lua_tonumberx(_L, -2, null);
                    e.IsFloat = true;
                    break;
                case var t:
                    throw Fail($"unsupported table key type ({LuaTables.TypeName((LuaType)t)})", tableLevel: true);
            }
            lua_rotate(_L, -2, 1);
            count++;
            if (++reserved >= 32)
            {
                if (!new LuaState(_L).CheckStack(40)) throw Fail("table too large to encode", tableLevel: true);
                reserved = 0;
            }
        }
        return (count, max, positive);
    }

    void ArrayOf(int idx, int count, long max)
    {
        // Only a table marked with json.array gets here with holes; refuse absurd sparseness.
        if (max > 2L * count + 1000)
            throw Fail($"array too sparse (largest index {max}, {count} elements)", tableLevel: true);
        Byte((byte)'[');
        for (long i = 1; i <= max; i++)
        {
            if (i > 1) Byte((byte)',');
            NewLine(_depth);
            lua_rawgeti(_L, idx, i);
            Element(i);
        }
        NewLine(_depth - 1);
        Byte((byte)']');
    }

    void ObjectOf(int keyBase, int count)
    {
        var keys = _keys.AsSpan(keyBase, count);
        for (int i = 0; i < keys.Length; i++) PrepareKey(ref keys[i]);
        keys.Sort(new KeyComparer(_scratch));
        Byte((byte)'{');
        for (int i = 0; i < keys.Length; i++)
        {
            var key = KeyBytes(keys[i]);
            if (i > 0)
            {
                if (key.SequenceEqual(KeyBytes(keys[i - 1])))
                    throw Fail($"duplicate object key \"{System.Text.Encoding.UTF8.GetString(key)}\" (a number key and a string key with the same text)", tableLevel: true);
                Byte((byte)',');
            }
            NewLine(_depth);
            Quoted(key);
            if (_options.Pretty) Raw(": "u8); else Byte((byte)':');
            _segments[_depth - 1] = new Segment(0, keyBase + i);
            Value(keys[i].Slot);
        }
        NewLine(_depth - 1);
        Byte((byte)'}');
    }

    /// <summary>Validates string keys; formats number keys into the scratch buffer.</summary>
    void PrepareKey(ref KeyEntry e)
    {
        if (e.Ptr != null)
        {
            var s = new ReadOnlySpan<byte>(e.Ptr, e.Length);
            if (!Utf8.IsValid(s)) throw Fail("invalid UTF-8 in object key", tableLevel: true);
            return;
        }
        if (_scratchPos + 48 > _scratch.Length) Array.Resize(ref _scratch, _scratch.Length * 2);
        var dest = _scratch.AsSpan(_scratchPos);
        int n;
        if (!e.IsFloat) e.Integer.TryFormat(dest, out n, default, System.Globalization.CultureInfo.InvariantCulture);
        else if (double.IsFinite(e.Float)) n = LuaTables.FormatFloat(e.Float, dest);
        else n = System.Text.Encoding.ASCII.GetBytes(LuaFormat.Number(e.Float), dest);
        e.Offset = _scratchPos;
        e.Length = n;
        _scratchPos += n;
    }

    /// <summary>
    /// An error naming the path to the value being encoded (or, for <paramref name="tableLevel"/>
    /// problems, to the current table). The path comes from <see cref="_segments"/>, not from
    /// catch-and-rethrow per level: nested exception dispatch 1000 frames deep overflows the stack.
    /// </summary>
    LuaValueException Fail(string problem, bool tableLevel = false)
    {
        var e = new LuaValueException(problem);
        for (int d = (tableLevel ? _depth - 1 : _depth) - 1; d >= 0; d--)
        {
            var seg = _segments[d];
            if (seg.KeyEntry < 0) e.AtIndex(seg.Index); else e.AtKey(KeyBytes(_keys[seg.KeyEntry]));
        }
        return e;
    }

    /// <summary>The child being encoded: an array index, or an object key (index into _keys).</summary>
    readonly record struct Segment(long Index, int KeyEntry);

    ReadOnlySpan<byte> KeyBytes(in KeyEntry e) =>
        e.Ptr != null ? new ReadOnlySpan<byte>(e.Ptr, e.Length) : _scratch.AsSpan(e.Offset, e.Length);

    ref KeyEntry NewKey()
    {
        if (_keyCount == _keys.Length) Array.Resize(ref _keys, _keys.Length * 2);
        return ref _keys[_keyCount++];
    }

    /// <summary>
    /// An object key: a Lua string (pointer into the table's own key, alive while the table is —
    /// no Lua code runs during encoding) or a number formatted into the scratch buffer.
    /// </summary>
    struct KeyEntry
    {
        public byte* Ptr;
        public int Offset, Length, Slot;
        public long Integer;
        public double Float;
        public bool IsFloat;
    }

    readonly struct KeyComparer(byte[] scratch) : IComparer<KeyEntry>
    {
        public int Compare(KeyEntry a, KeyEntry b) => Bytes(a).SequenceCompareTo(Bytes(b));
        ReadOnlySpan<byte> Bytes(in KeyEntry e) =>
            e.Ptr != null ? new ReadOnlySpan<byte>(e.Ptr, e.Length) : scratch.AsSpan(e.Offset, e.Length);
    }

    // ------------------------------------------------------------------ output buffer

    void NewLine(int depth)
    {
        if (!_options.Pretty) return;
        int n = depth * _options.Indent;
        Ensure(n + 1);
        _buf[_pos++] = (byte)'\n';
        _buf.AsSpan(_pos, n).Fill((byte)' ');
        _pos += n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Byte(byte b)
    {
        if (_pos == _buf.Length) Grow(1);
        _buf[_pos++] = b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Raw(ReadOnlySpan<byte> s)
    {
        Ensure(s.Length);
        s.CopyTo(_buf.AsSpan(_pos));
        _pos += s.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Ensure(int n)
    {
        if (_buf.Length - _pos < n) Grow(n);
    }

    void Grow(int n)
    {
        long size = Math.Max((long)_buf.Length * 2, (long)_pos + n);
        if (size > Array.MaxLength) throw Fail("JSON text too large");
        Array.Resize(ref _buf, (int)size);
    }
}
