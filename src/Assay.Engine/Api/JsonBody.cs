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
        { ValueKind: JsonValueKind.String } v => Text(Decode(v) ?? throw EngineException.Invalid($"field '{name}' is not valid Unicode"), name),
        _ => throw EngineException.Invalid($"field '{name}' must be a string"),
    };

    /// <summary>Names, ids and messages are stored as text columns, which cannot hold NUL on PostgreSQL.</summary>
    public static string Text(string s, string what) =>
        s.Contains('\0') ? throw EngineException.Invalid($"'{what}' must not contain NUL characters") : s;

    public string RequiredString(string name)
    {
        var s = String(name);
        if (string.IsNullOrEmpty(s)) throw EngineException.Invalid($"field '{name}' is required (non-empty string)");
        return s;
    }

    /// <summary>An id or name addressed in URL paths (see <see cref="Limits.Id"/>); required.</summary>
    public string RequiredId(string name) => Limits.Id(RequiredString(name), name);

    /// <summary>An optional id or name addressed in URL paths (see <see cref="Limits.Id"/>).</summary>
    public string? Id(string name) => String(name) is { } s ? Limits.Id(s, name) : null;

    /// <summary>An optional duration in seconds, bounded by <see cref="Limits.Duration"/>.</summary>
    public double? Duration(string name, bool allowZero) => Double(name) is { } d ? Limits.Duration(d, name, allowZero) : null;

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

    /// <summary>An optional dispatch priority: an integer from <see cref="Priorities.Highest"/> (1) to
    /// <see cref="Priorities.Lowest"/> (5).</summary>
    public int? Priority(string name = "priority") => Long(name) switch
    {
        null => null,
        >= Priorities.Highest and <= Priorities.Lowest and var p => (int)p,
        _ => throw EngineException.Invalid(
            $"field '{name}' must be an integer from {Priorities.Highest} (highest) to {Priorities.Lowest} (lowest)"),
    };

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
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var p in v.EnumerateObject())
        {
            RequireStorableStrings(p.Value, what);
            pairs.Add(new(Text(NameOf(p, what), what), p.Value.GetRawText()));
        }
        return pairs;
    }

    /// <summary>Search attributes are compared as jsonb on PostgreSQL, which rejects NUL and unpaired surrogates:
    /// such values are refused here instead of poisoning every later filter.</summary>
    static void RequireStorableStrings(JsonElement e, string what)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                if (!IsStorable(Decode(e))) throw EngineException.Invalid($"'{what}' contains a NUL or an unpaired surrogate");
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) RequireStorableStrings(item, what);
                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    if (!IsStorable(NameOf(p, what))) throw EngineException.Invalid($"'{what}' contains a NUL or an unpaired surrogate");
                    RequireStorableStrings(p.Value, what);
                }
                break;
        }
    }

    /// <summary>GetString refuses escapes that are not valid UTF-16 (a lone \\ud800); null marks them unstorable.</summary>
    static string? Decode(JsonElement e)
    {
        try { return e.GetString(); }
        catch (InvalidOperationException) { return null; }
    }

    static string NameOf(JsonProperty p, string what)
    {
        try { return p.Name; }
        catch (InvalidOperationException) { throw EngineException.Invalid($"'{what}' has a key that is not valid Unicode"); }
    }

    static bool IsStorable(string? s)
    {
        if (s is null) return false;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '\0') return false;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return false;
        }
        return true;
    }

    public IReadOnlyList<string>? StringArray(string name)
    {
        var v = Get(name);
        if (v is null) return null;
        if (v.Value.ValueKind == JsonValueKind.Object && !v.Value.EnumerateObject().Any()) return [];
        if (v.Value.ValueKind != JsonValueKind.Array || v.Value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw EngineException.Invalid($"field '{name}' must be an array of strings");
        return v.Value.EnumerateArray().Select(e => Text(Decode(e) ?? throw EngineException.Invalid($"field '{name}' is not valid Unicode"), name)).ToList();
    }

    public void Dispose() => _doc?.Dispose();
}
