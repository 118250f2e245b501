using System.Globalization;

namespace Assay.Cli.Checks;

/// <summary>
/// `expect.json`: `<path> <op> <literal>`, e.g. `.status == "ok"`, `.items[0].count >= 3`,
/// `.data.ready != false`. Paths take object keys and array indexes; ops are == != &lt; &lt;= &gt; &gt;=.
/// Numbers compare numerically (42 == 42.0); strings compare as strings.
/// </summary>
public static class JsonExpectation
{
    static readonly string[] Ops = ["==", "!=", "<=", ">=", "<", ">"];

    /// <summary>Null when the body satisfies the expression, else why not.</summary>
    public static string? Check(string expression, string body)
    {
        var (path, op, literal) = Split(expression);
        JsonNode? doc;
        try { doc = JsonNode.Parse(body); }
        catch (System.Text.Json.JsonException) { return "response body is not valid JSON"; }
        if (!TryResolve(doc, path, out var actual)) return $"JSON path '{path}' not found in response";
        var expected = ParseLiteral(literal);
        bool ok = op switch
        {
            "==" => Equal(actual, expected),
            "!=" => !Equal(actual, expected),
            _ => Compare(actual, expected, op),
        };
        return ok ? null : $"JSON expression failed: {expression} (actual: {actual?.ToJsonString() ?? "null"})";
    }

    static (string Path, string Op, string Literal) Split(string expression)
    {
        foreach (var op in Ops)
        {
            int at = expression.IndexOf(op, StringComparison.Ordinal);
            if (at > 0) return (expression[..at].Trim(), op, expression[(at + op.Length)..].Trim());
        }
        throw new FormatException($"expect.json: expected '<path> <op> <value>', got '{expression}'");
    }

    static bool TryResolve(JsonNode? node, string path, out JsonNode? value)
    {
        value = node;
        var p = path.TrimStart('.');
        int i = 0;
        while (i < p.Length)
        {
            if (p[i] == '.') { i++; continue; }
            if (p[i] == '[')
            {
                int close = p.IndexOf(']', i);
                if (close < 0 || !int.TryParse(p[(i + 1)..close], out var index)) return false;
                if (value is not JsonArray arr || index < 0 || index >= arr.Count) return false;
                value = arr[index];
                i = close + 1;
                continue;
            }
            int end = p.IndexOfAny(['.', '['], i);
            if (end < 0) end = p.Length;
            var key = p[i..end];
            if (value is not JsonObject obj || !obj.TryGetPropertyValue(key, out value)) return false;
            i = end;
        }
        return true;
    }

    static JsonNode? ParseLiteral(string literal)
    {
        if (literal == "null") return null;
        try { return JsonNode.Parse(literal); }
        catch (System.Text.Json.JsonException) { return JsonValue.Create(literal); } // a bare word is a string
    }

    static bool Equal(JsonNode? a, JsonNode? b)
    {
        if (a == null || b == null) return a == null && b == null;
        if (Number(a) is { } x && Number(b) is { } y) return x == y;
        return JsonNode.DeepEquals(a, b);
    }

    static bool Compare(JsonNode? a, JsonNode? b, string op)
    {
        int cmp;
        if (Number(a) is { } x && Number(b) is { } y) cmp = x.CompareTo(y);
        else if (a is JsonValue va && va.TryGetValue<string>(out var sa) && b is JsonValue vb && vb.TryGetValue<string>(out var sb))
            cmp = string.CompareOrdinal(sa, sb);
        else return false;
        return op switch { "<" => cmp < 0, "<=" => cmp <= 0, ">" => cmp > 0, _ => cmp >= 0 };
    }

    static double? Number(JsonNode? n) =>
        n is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture)
            : null;
}
