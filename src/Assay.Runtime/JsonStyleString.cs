using System;
using System.Globalization;
using System.Text;

namespace Assay.Runtime;

/// <summary>
/// A double-quoted string with JSON's escapes, which TOML's basic strings share: <c>\" \\ \b \t \n \f \r</c>, and
/// <c>\uXXXX</c> for every other character the caller's rule picks. <c>toml.encode</c> escapes only control
/// characters; the templates' <c>tojson</c> filter, like Python's json.dumps, everything outside printable ASCII.
/// The source generator compiles this file too (C# string literals read these escapes alike), hence the usings.
/// </summary>
internal static class JsonStyleString
{
    public static StringBuilder Append(StringBuilder sb, string s, Func<char, bool> asUnicodeEscape, bool upperCaseHex = false)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (asUnicodeEscape(c)) sb.Append("\\u").Append(((int)c).ToString(upperCaseHex ? "X4" : "x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"');
    }
}
