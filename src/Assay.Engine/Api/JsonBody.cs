using System.Text.Json;
using Assay.Engine.Core;
using Microsoft.AspNetCore.Http;

namespace Assay.Engine.Api;

/// <summary>
/// A request body read leniently: empty, <c>null</c> and <c>[]</c> (how the Lua client encodes an
/// empty table) all mean "no fields". Field access is strict: a present field of the wrong type
/// is a 400 naming the field.
/// </summary>
internal sealed class JsonBody : IDisposable
{
    readonly JsonDocument? _doc;
    readonly JsonElement _root;

    JsonBody(JsonDocument? doc)
    {
        _doc = doc;
        _root = doc?.RootElement ?? default;
    }

    public static JsonBody Empty { get; } = new(null);

    public static async Task<JsonBody> ReadAsync(HttpContext ctx)
    {
        var ms = new MemoryStream();
        // Kestrel enforces the body-size limit while we read (BadHttpRequestException → 413).
        await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted);
        return Parse(ms.GetBuffer().AsMemory(0, (int)ms.Length));
    }

    public static JsonBody Parse(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty) return Empty;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException e)
        {
            throw EngineException.Invalid($"malformed JSON body: {e.Message}");
        }
        switch (doc.RootElement.ValueKind)
        {
            case JsonValueKind.Object:
                return new JsonBody(doc);
            case JsonValueKind.Null:
            case JsonValueKind.Array when doc.RootElement.GetArrayLength() == 0:
                doc.Dispose();
                return Empty;
            default:
                doc.Dispose();
                throw EngineException.Invalid("request body must be a JSON object");
        }
    }

    public static JsonBody FromElement(JsonElement e) => e.ValueKind == JsonValueKind.Object ? new JsonBody(null, e) : Empty;

    JsonBody(JsonDocument? doc, JsonElement root)
    {
        _doc = doc;
        _root = root;
    }

    JsonElement? Get(string name) =>
        _root.ValueKind == JsonValueKind.Object && _root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public bool Has(string name) => Get(name) is not null;

    public string? String(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        _ => throw EngineException.Invalid($"field '{name}' must be a string"),
    };

    public string RequiredString(string name)
    {
        var s = String(name);
        if (string.IsNullOrEmpty(s)) throw EngineException.Invalid($"field '{name}' is required (non-empty string)");
        return s;
    }

    public double? Double(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetDouble(out var d) && double.IsFinite(d) => d,
        _ => throw EngineException.Invalid($"field '{name}' must be a number"),
    };

    public long? Long(string name)
    {
        var d = Double(name);
        if (d is null) return null;
        if (d != Math.Floor(d.Value) || Math.Abs(d.Value) > 9e15) throw EngineException.Invalid($"field '{name}' must be an integer");
        return (long)d.Value;
    }

    public bool? Bool(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw EngineException.Invalid($"field '{name}' must be a boolean"),
    };

    /// <summary>Any JSON value as JSON text; absent or null → null.</summary>
    public string? Raw(string name) => Get(name)?.GetRawText();

    public JsonElement? Element(string name) => Get(name);

    /// <summary>A JSON object as (key, JSON text) pairs; <c>[]</c> counts as an empty object.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Object(string name)
    {
        var v = Get(name);
        if (v is null) return null;
        return ObjectPairs(v.Value, name);
    }

    public static IReadOnlyList<KeyValuePair<string, string>> ObjectPairs(JsonElement v, string what)
    {
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 0) return [];
        if (v.ValueKind != JsonValueKind.Object) throw EngineException.Invalid($"'{what}' must be a JSON object");
        return v.EnumerateObject().Select(p => new KeyValuePair<string, string>(p.Name, p.Value.GetRawText())).ToList();
    }

    public IReadOnlyList<string>? StringArray(string name)
    {
        var v = Get(name);
        if (v is null) return null;
        if (v.Value.ValueKind == JsonValueKind.Object && !v.Value.EnumerateObject().Any()) return [];
        if (v.Value.ValueKind != JsonValueKind.Array || v.Value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw EngineException.Invalid($"field '{name}' must be an array of strings");
        return v.Value.EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    public void Dispose() => _doc?.Dispose();
}
