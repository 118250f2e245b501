namespace Assay.Cli.ToolMode;

/// <summary>
/// The single JSON document tool mode prints (byte-compatible with the original: field names,
/// camelCase requiresApproval, no trailing newline, 512 KiB cap with "truncated": true).
/// </summary>
public static class Envelope
{
    public const int MaxBytes = 512 * 1024;

    public static string Success(byte[] outputJson)
    {
        var full = Build(w =>
        {
            w.WriteBoolean("ok", true);
            w.WriteString("status", "ok");
            w.WritePropertyName("output");
            w.WriteRawValue(outputJson, skipInputValidation: true);
            w.WriteNull("requiresApproval");
        });
        return Encoding.UTF8.GetByteCount(full) <= MaxBytes ? full : Truncated(Encoding.UTF8.GetString(outputJson));
    }

    /// <summary>Replaces output by the longest prefix of its JSON text (+ "...") that fits the cap.</summary>
    static string Truncated(string outputText)
    {
        int lo = 0, hi = outputText.Length;
        string best = Make("");
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (mid > 0 && char.IsHighSurrogate(outputText[mid - 1])) mid--;
            var candidate = Make(outputText[..mid]);
            if (Encoding.UTF8.GetByteCount(candidate) <= MaxBytes) { best = candidate; lo = mid + 1; }
            else hi = mid - 1;
        }
        return best;

        static string Make(string prefix) => Build(w =>
        {
            w.WriteBoolean("ok", true);
            w.WriteString("status", "ok");
            w.WriteString("output", prefix + "...");
            w.WriteNull("requiresApproval");
            w.WriteBoolean("truncated", true);
        });
    }

    public static string Error(string status, string message) => Build(w =>
    {
        w.WriteBoolean("ok", false);
        w.WriteString("status", status);
        w.WriteString("error", message);
    });

    public static string NeedsApproval(string prompt, byte[] contextJson, string token) => Build(w =>
    {
        w.WriteBoolean("ok", true);
        w.WriteString("status", "needs_approval");
        w.WriteNull("output");
        w.WriteStartObject("requiresApproval");
        w.WriteString("prompt", prompt);
        w.WritePropertyName("context");
        w.WriteRawValue(contextJson, skipInputValidation: true);
        w.WriteString("resumeToken", token);
        w.WriteEndObject();
    });

    static string Build(Action<Utf8JsonWriter> body) => CliJson.Write(w =>
    {
        w.WriteStartObject();
        body(w);
        w.WriteEndObject();
    });
}
