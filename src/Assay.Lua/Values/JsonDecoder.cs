using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using static Assay.Lua.Values.LuaFast;

namespace Assay.Lua.Values;

/// <summary>
/// What JSON null becomes. By default (compatible with the original for objects) a null member
/// is left out of its table, a null array element becomes <c>json.null</c> so the array keeps its
/// length, and a top-level null is nil. With <see cref="ReplacementIndex"/> set, every null
/// becomes the Lua value at that stack index (e.g. <c>json.parse(s, {null = json.null})</c>).
/// </summary>
public readonly record struct JsonDecodeOptions(int ReplacementIndex = 0);

/// <summary>
/// JSON text → Lua value, straight from <see cref="Utf8JsonReader"/> onto the Lua stack (no
/// intermediate object graph, no recursion: nesting lives on the Lua stack). Integers that fit
/// int64 stay Lua integers, other numbers become floats; an empty object is marked with
/// json.object so it encodes back as <c>{}</c>. Errors read "&lt;what&gt; at line L column C".
/// </summary>
public static unsafe class JsonDecoder
{
    /// <summary>One open container: whether it is an array, and its element count.</summary>
    struct Frame { public bool IsArray; public int Count; }

    /// <summary>Parses <paramref name="json"/> and pushes the resulting value.</summary>
    public static void Push(LuaState L, ReadOnlySpan<byte> json, JsonDecodeOptions options = default)
    {
        if (json.StartsWith("\xEF\xBB\xBF"u8)) json = json[3..];
        if (!Utf8.IsValid(json)) throw Positioned("invalid UTF-8", json, FirstInvalidUtf8(json));
        int top = L.Top;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = LuaTables.MaxDepth });
        try
        {
            Parse(L, ref reader, options);
        }
        catch (JsonException e)
        {
            L.SetTop(top);
            throw new LuaException($"{Describe(e)} at line {e.LineNumber + 1} column {e.BytePositionInLine + 1}");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            // e.g. an escape that decodes to a lone surrogate
            L.SetTop(top);
            throw Positioned(Describe(e), json, (int)reader.TokenStartIndex);
        }
        catch (LuaException)
        {
            L.SetTop(top);
            throw;
        }
    }

    static void Parse(LuaState L, ref Utf8JsonReader reader, JsonDecodeOptions options)
    {
        var h = L.Handle;
        var frames = new Frame[16];
        int depth = 0;
        if (!reader.Read()) throw new LuaException("empty input");
        while (true)
        {
            bool complete = true;   // whether a whole value is now on top of the stack
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    if (!L.CheckStack(4)) throw new LuaException("JSON nested too deeply for the Lua stack");
                    L.NewTable();
                    if (depth == frames.Length) Array.Resize(ref frames, depth * 2);
                    frames[depth++] = new Frame { IsArray = reader.TokenType == JsonTokenType.StartArray };
                    complete = false;
                    break;
                case JsonTokenType.EndObject:
                    if (frames[--depth].Count == 0) MarkEmptyObject(L);
                    break;
                case JsonTokenType.EndArray:
                    depth--;
                    break;
                case JsonTokenType.PropertyName:
                    PushString(L, ref reader);
                    complete = false;
                    break;
                case JsonTokenType.String:
                    PushString(L, ref reader);
                    break;
                case JsonTokenType.Number:
                    PushNumber(h, ref reader);
                    break;
                case JsonTokenType.True:
                case JsonTokenType.False:
                    lua_pushboolean(h, reader.TokenType == JsonTokenType.True ? 1 : 0);
                    break;
                case JsonTokenType.Null:
                    complete = PushNull(L, options, depth > 0 && !frames[depth - 1].IsArray, depth == 0);
                    break;
            }
            if (complete)
            {
                if (depth == 0) break;
                ref var parent = ref frames[depth - 1];
                parent.Count++;
                if (parent.IsArray) lua_rawseti(h, -2, parent.Count);
                else lua_rawset(h, -3);
            }
            if (!reader.Read()) throw new LuaException("unexpected end of input");
        }
        // Anything but whitespace after the value is an error (the reader throws on it).
        if (reader.Read()) throw new LuaException("unexpected data after the JSON value");
    }

    /// <summary>
    /// Pushes what a null becomes; returns false when it becomes nothing (a null object member by
    /// default: its key is popped instead, so the member is absent).
    /// </summary>
    static bool PushNull(LuaState L, JsonDecodeOptions options, bool inObject, bool topLevel)
    {
        if (options.ReplacementIndex != 0) { lua_pushvalue(L.Handle, options.ReplacementIndex); return true; }
        if (inObject)
        {
            L.Pop(1);
            return false;
        }
        if (topLevel) L.PushNil(); else lua_pushlightuserdata(L.Handle, IntPtr.Zero);
        return true;
    }

    static void MarkEmptyObject(LuaState L)
    {
        LuaTables.PushMarkerMetatable(L, TableMarker.Object);
        L.SetMetatable(-2);
    }

    static void PushString(LuaState L, ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            L.PushBytes(reader.ValueSpan);
            return;
        }
        // Unescaped text is never longer than the escaped source.
        int max = reader.ValueSpan.Length;
        if (max <= 256)
        {
            Span<byte> buf = stackalloc byte[256];
            L.PushBytes(buf[..reader.CopyString(buf)]);
            return;
        }
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try { L.PushBytes(rented.AsSpan(0, reader.CopyString(rented))); }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    static void PushNumber(IntPtr h, ref Utf8JsonReader reader)
    {
        if (reader.TryGetInt64(out long n)) { lua_pushinteger(h, n); return; }
        // Beyond int64, fractions, exponents: a float. JSON has no infinities, so a number too
        // large for a double (1e999) is an error rather than a silent inf.
        if (!reader.TryGetDouble(out double d))
            d = double.Parse(reader.ValueSpan, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(d))
            throw new FormatException($"number {Encoding.UTF8.GetString(Clip(reader.ValueSpan))} is out of range (beyond ±1.8e308)");
        lua_pushnumber(h, d);
    }

    static ReadOnlySpan<byte> Clip(ReadOnlySpan<byte> text) => text.Length <= 40 ? text : text[..40];

    /// <summary>The reader's message without its "LineNumber: … | BytePositionInLine: …" tail.</summary>
    static string Describe(Exception e)
    {
        var m = e.Message;
        int cut = m.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0) m = m[..cut];
        m = m.TrimEnd('.', ' ');
        return m.Length > 0 && char.IsUpper(m[0]) && (m.Length < 2 || !char.IsUpper(m[1])) ? char.ToLowerInvariant(m[0]) + m[1..] : m;
    }

    static LuaException Positioned(string what, ReadOnlySpan<byte> json, int offset)
    {
        offset = Math.Clamp(offset, 0, json.Length);
        var before = json[..offset];
        int line = before.Count((byte)'\n') + 1;
        int column = offset - (before.LastIndexOf((byte)'\n') + 1) + 1;
        return new LuaException($"{what} at line {line} column {column}");
    }

    static int FirstInvalidUtf8(ReadOnlySpan<byte> s)
    {
        int i = 0;
        while (i < s.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(s[i..], out _, out int used) != OperationStatus.Done) return i;
            i += used;
        }
        return i;
    }
}
