namespace Assay.Cli.EngineClient;

/// <summary>
/// Prints engine answers: lists as aligned columns (table), a pretty JSON array (json), one
/// object per line (jsonl) or YAML. Single records print as pretty JSON in table mode.
/// </summary>
public sealed class OutputWriter(OutputFormat format, TextWriter? output = null)
{
    readonly TextWriter _out = output ?? Console.Out;

    public void List(JsonNode? node, params string[] columns)
    {
        var items = node as JsonArray ?? [];
        switch (format)
        {
            case OutputFormat.Table: Table(items, columns); break;
            case OutputFormat.Jsonl:
                foreach (var item in items) _out.WriteLine(item?.ToJsonString() ?? "null");
                break;
            case OutputFormat.Yaml: _out.Write(Yaml.Write(items)); break;
            default: _out.WriteLine(ToPrettyJson(items)); break;
        }
    }

    public void Record(JsonNode? node)
    {
        switch (format)
        {
            case OutputFormat.Yaml: _out.Write(Yaml.Write(node)); break;
            case OutputFormat.Jsonl: _out.WriteLine(node?.ToJsonString() ?? "null"); break;
            default: _out.WriteLine(ToPrettyJson(node)); break;
        }
    }

    /// <summary>Side-effect commands: a sentence on a terminal, {"ok":true,"message":…} otherwise.</summary>
    public void Done(string message)
    {
        if (format == OutputFormat.Table) _out.WriteLine(message);
        else Record(new JsonObject { ["ok"] = true, ["message"] = message });
    }

    static string ToPrettyJson(JsonNode? node) => CliJson.Write(w =>
    {
        if (node == null) w.WriteNullValue(); else node.WriteTo(w);
    }, indented: true);

    void Table(JsonArray items, string[] columns)
    {
        if (items.Count == 0)
        {
            _out.WriteLine("(none)");
            return;
        }
        var rows = items.Select(item => columns.Select(c => Cell(item?[c])).ToArray()).ToList();
        var header = columns.Select(c => c.ToUpperInvariant()).ToArray();
        var widths = columns.Select((_, i) => Math.Max(header[i].Length, rows.Max(r => r[i].Length))).ToArray();
        WriteRow(header, widths);
        foreach (var row in rows) WriteRow(row, widths);
    }

    void WriteRow(string[] cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < cells.Length; i++)
        {
            if (i > 0) sb.Append("  ");
            sb.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i]));
        }
        _out.WriteLine(sb.ToString().TrimEnd());
    }

    static string Cell(JsonNode? value) => value switch
    {
        null => "-",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<double>(out var d) && d > 1e9 && d < 1e11 =>
            DateTimeOffset.FromUnixTimeMilliseconds((long)(d * 1000)).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"),
        _ => value.ToJsonString(),
    };

    /// <summary>A small YAML emitter for JSON values (block style, quoted strings when needed).</summary>
    static class Yaml
    {
        public static string Write(JsonNode? node)
        {
            var sb = new StringBuilder();
            Emit(sb, node, 0, topLevel: true);
            if (sb.Length == 0 || sb[^1] != '\n') sb.Append('\n');
            return sb.ToString();
        }

        static void Emit(StringBuilder sb, JsonNode? node, int indent, bool topLevel = false)
        {
            var pad = new string(' ', indent);
            switch (node)
            {
                case JsonObject obj when obj.Count > 0:
                    foreach (var (k, v) in obj)
                    {
                        sb.Append(pad).Append(Scalar(k)).Append(':');
                        EmitChild(sb, v, indent);
                    }
                    break;
                case JsonArray arr when arr.Count > 0:
                    foreach (var v in arr)
                    {
                        sb.Append(pad).Append('-');
                        EmitChild(sb, v, indent);
                    }
                    break;
                default:
                    sb.Append(topLevel ? "" : pad).Append(Inline(node)).Append('\n');
                    break;
            }
        }

        static void EmitChild(StringBuilder sb, JsonNode? v, int indent)
        {
            if (v is JsonObject { Count: > 0 } or JsonArray { Count: > 0 })
            {
                sb.Append('\n');
                Emit(sb, v, indent + 2);
            }
            else sb.Append(' ').Append(Inline(v)).Append('\n');
        }

        static string Inline(JsonNode? v) => v switch
        {
            null => "null",
            JsonObject => "{}",
            JsonArray => "[]",
            JsonValue jv when jv.TryGetValue<string>(out var s) => Scalar(s),
            _ => v.ToJsonString(),
        };

        static string Scalar(string s)
        {
            bool plain = s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '/')
                         && !char.IsDigit(s[0]) && s is not ("true" or "false" or "null" or "yes" or "no" or "~");
            return plain ? s : CliJson.Write(w => w.WriteStringValue(s));
        }
    }
}
