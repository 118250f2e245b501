using System.Buffers;

namespace Assay.Engine.Core;

/// <summary>
/// Small helpers for the JSON *text* the engine stores (inputs, results, event payloads).
/// Written with Utf8JsonWriter so nothing here needs reflection (NativeAOT).
/// </summary>
public static class JsonText
{
    /// <summary>Plain UTF-8 with only the escapes JSON requires (no \u0022 for quotes): this is an API, not HTML.</summary>
    public static readonly System.Text.Encodings.Web.JavaScriptEncoder Encoder =
        System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = Encoder };

    public static string Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
            write(w);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes stored JSON text as a nested value; absent text becomes null.</summary>
    public static void WriteRawOrNull(this Utf8JsonWriter w, string property, string? json)
    {
        w.WritePropertyName(property);
        if (json is null) w.WriteNullValue();
        else w.WriteRawValue(json, skipInputValidation: true);
    }

    public static void WriteRawOrNull(this Utf8JsonWriter w, string? json)
    {
        if (json is null) w.WriteNullValue();
        else w.WriteRawValue(json, skipInputValidation: true);
    }

    /// <summary>Shallow merge: keys of <paramref name="patch"/> overwrite keys of <paramref name="current"/>.</summary>
    public static string MergeObjects(string? current, IReadOnlyList<KeyValuePair<string, string>> patch)
    {
        var merged = new List<KeyValuePair<string, string>>();
        if (current is not null)
        {
            try
            {
                using var doc = JsonDocument.Parse(current);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                    foreach (var p in doc.RootElement.EnumerateObject())
                        merged.Add(new(p.Name, p.Value.GetRawText()));
            }
            catch (JsonException)
            {
                // A corrupt stored value is treated as empty rather than blocking every later upsert.
            }
        }
        foreach (var (key, value) in patch)
        {
            var i = merged.FindIndex(kv => kv.Key == key);
            if (i >= 0) merged[i] = new(key, value);
            else merged.Add(new(key, value));
        }
        return Build(w =>
        {
            w.WriteStartObject();
            foreach (var (key, value) in merged)
            {
                w.WritePropertyName(key);
                w.WriteRawValue(value, skipInputValidation: true);
            }
            w.WriteEndObject();
        });
    }

    /// <summary>Structural equality of two JSON texts (whitespace and key order ignored).</summary>
    public static bool SameValue(string? a, string? b)
    {
        if (a is null || b is null) return IsNullOrJsonNull(a) && IsNullOrJsonNull(b);
        using var da = JsonDocument.Parse(a);
        using var db = JsonDocument.Parse(b);
        return JsonElement.DeepEquals(da.RootElement, db.RootElement);
    }

    /// <summary>A string property of a stored JSON object; null when the text is absent, not an object or lacks it.</summary>
    public static string? StringField(string? json, string property)
    {
        if (json is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var v)
                && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static bool IsNullOrJsonNull(string? s) => s is null || s.Trim() == "null";
}

/// <summary>For a property holding stored JSON text that a wire record embeds as a JSON value rather than a string
/// (<see cref="StreamEvent.Payload"/>): written as it is, like <see cref="JsonText.WriteRawOrNull(Utf8JsonWriter, string?)"/>.</summary>
public sealed class EmbeddedJsonConverter : System.Text.Json.Serialization.JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.ParseValue(ref reader);
        return doc.RootElement.GetRawText();
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) => writer.WriteRawOrNull(value);
}
