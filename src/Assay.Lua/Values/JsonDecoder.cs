using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using Assay.Lua.Interop;

namespace Assay.Lua.Values;

/// <summary>
/// What JSON null becomes. By default (compatible with the original for objects) a null member
/// is left out of its table, a null array element becomes <c>json.null</c> so the array keeps its
/// length, and a top-level null is nil. With <see cref="ReplacementIndex"/> set, every null
/// becomes the Lua value at that stack index (e.g. <c>json.parse(s, {null = json.null})</c>).
/// </summary>
public readonly record struct JsonDecodeOptions(int ReplacementIndex = 0);

/// <summary>
/// JSON text → Lua value, pushed onto the Lua stack by the C decoder (native/assay_json.c) in one
/// call: no intermediate object graph, no recursion, one P/Invoke per document. Integers that fit
/// int64 stay Lua integers, other numbers become floats; an empty object is marked with
/// json.object so it encodes back as <c>{}</c>. Errors read "&lt;what&gt; at line L column C".
/// </summary>
public static unsafe class JsonDecoder
{
    /// <summary>Parses <paramref name="json"/> and pushes the resulting value.</summary>
    public static void Push(LuaState L, ReadOnlySpan<byte> json, JsonDecodeOptions options = default)
    {
        if (json.StartsWith(Utf8Bom)) json = json[Utf8Bom.Length..];
        // Checked here rather than in C: the vectorised check is faster than the C loop would be,
        // and invalid bytes are reported before any syntax error.
        if (!Utf8.IsValid(json)) throw Positioned("invalid UTF-8", json, FirstInvalidUtf8(json));
        LuaTables.PushMarkerMetatable(L, TableMarker.Object);
        int objectMt = L.Top;
        const int MessageSize = 160;
        byte* message = stackalloc byte[MessageSize];
        nuint offset = 0;
        int status;
        fixed (byte* text = json)
            status = LuaNative.assay_json_decode(L.Handle, text, (nuint)json.Length, options.ReplacementIndex, objectMt,
                message, MessageSize, &offset);
        if (status < 0)
        {
            L.SetTop(objectMt - 1);
            var what = Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(message));
            throw Positioned(what, json, (int)offset);
        }
        L.Remove(objectMt);
    }

    static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

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
