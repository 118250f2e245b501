namespace Assay.Cli;

/// <summary>JSON text the CLI prints for people and programs: quotes and non-ASCII kept as they are.</summary>
public static class CliJson
{
    static readonly JsonWriterOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    static readonly JsonWriterOptions Indented = new() { Encoder = Compact.Encoder, Indented = true };

    public static string Write(Action<Utf8JsonWriter> body, bool indented = false)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, indented ? Indented : Compact)) body(w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
