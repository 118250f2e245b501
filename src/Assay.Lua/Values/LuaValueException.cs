using System.Text;

namespace Assay.Lua.Values;

/// <summary>
/// A value that cannot be converted, with the path to it ("$.items[3].name"). The path is built
/// while the exception unwinds the converter's recursion, so the happy path pays nothing for it.
/// Array indices are 1-based, as the Lua script that built the table sees them.
/// </summary>
public sealed class LuaValueException(string problem) : LuaException(problem)
{
    readonly List<string> _reversedSegments = [];

    public string Problem { get; } = problem;
    /// <summary>Prefixed to the message, e.g. "json.encode: ".</summary>
    public string Prefix { get; set; } = "";

    public string Path
    {
        get
        {
            const int Keep = 12;
            var sb = new StringBuilder("$");
            int n = _reversedSegments.Count;
            for (int i = n - 1; i >= 0; i--)
            {
                // A path 1000 levels deep helps nobody: keep both ends.
                if (n > 2 * Keep && i == n - 1 - Keep) { sb.Append("..."); i = Keep; }
                sb.Append(_reversedSegments[i]);
            }
            return sb.ToString();
        }
    }

    public override string Message => $"{Prefix}{Problem} at {Path}";

    internal LuaValueException AtIndex(long index)
    {
        _reversedSegments.Add($"[{index}]");
        return this;
    }

    internal LuaValueException AtKey(ReadOnlySpan<byte> key)
    {
        _reversedSegments.Add(FormatKey(key));
        return this;
    }

    static string FormatKey(ReadOnlySpan<byte> key)
    {
        bool identifier = key.Length > 0 && !char.IsAsciiDigit((char)key[0]);
        foreach (var b in key)
            if (!(char.IsAsciiLetterOrDigit((char)b) || b == '_')) { identifier = false; break; }
        var text = Encoding.UTF8.GetString(key);
        return identifier ? "." + text : "[\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"]";
    }
}
