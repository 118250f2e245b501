using System.Text.RegularExpressions;

namespace Assay.Runtime.Templates;

/// <summary>Python's string algorithms the filters and the str methods share (splitlines, textwrap, replace, title).</summary>
internal static partial class PyText
{
    /// <summary>Python's str.splitlines() (without keepends).</summary>
    public static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                lines.Add(s[start..i]);
                if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
                start = i + 1;
            }
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }

    /// <summary>Python's textwrap.wrap(expand_tabs=False, replace_whitespace=False).</summary>
    public static List<string> Wrap(string text, int width, bool breakLong, bool hyphens)
    {
        if (width <= 0) throw new TemplateException($"invalid width {width} (must be > 0)");
        var chunks = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            bool ws = char.IsWhiteSpace(text[i]);
            while (i < text.Length && char.IsWhiteSpace(text[i]) == ws)
            {
                i++;
                // break after a hyphen between letters ("well-known" → "well-", "known")
                if (!ws && hyphens && text[i - 1] == '-' && i - 1 >= 2 && char.IsLetter(text[i - 2]) && char.IsLetter(text[i - 3])
                    && i < text.Length && char.IsLetter(text[i])) break;
            }
            chunks.Add(text[start..i]);
        }
        chunks.Reverse();
        var lines = new List<string>();
        while (chunks.Count > 0)
        {
            var cur = new List<string>();
            int len = 0;
            if (chunks[^1].Trim().Length == 0 && lines.Count > 0) chunks.RemoveAt(chunks.Count - 1);
            while (chunks.Count > 0)
            {
                int l = chunks[^1].Length;
                if (len + l <= width) { cur.Add(chunks[^1]); chunks.RemoveAt(chunks.Count - 1); len += l; }
                else break;
            }
            if (chunks.Count > 0 && chunks[^1].Length > width)
            {
                int spaceLeft = width < 1 ? 1 : width - len;
                if (breakLong)
                {
                    var chunk = chunks[^1];
                    int end = spaceLeft;
                    if (hyphens && chunk.Length > spaceLeft)
                    {
                        int h = chunk.LastIndexOf('-', spaceLeft - 1, spaceLeft);
                        if (h > 0 && chunk[..h].Any(c => c != '-')) end = h + 1;
                    }
                    cur.Add(chunk[..end]);
                    len += end;
                    chunks[^1] = chunk[end..];
                }
                else if (cur.Count == 0) { cur.Add(chunks[^1]); chunks.RemoveAt(chunks.Count - 1); }
            }
            if (cur.Count > 0 && cur[^1].Trim().Length == 0) { len -= cur[^1].Length; cur.RemoveAt(cur.Count - 1); }
            if (cur.Count > 0) lines.Add(string.Concat(cur));
        }
        return lines;
    }

    /// <summary>str.replace(old, new, count): count &lt; 0 replaces all; an empty <paramref name="old"/> inserts between characters.</summary>
    public static string Replace(string s, string old, string repl, long count)
    {
        if (count < 0) return old.Length == 0 ? InsertEverywhere(s, repl, long.MaxValue) : s.Replace(old, repl, StringComparison.Ordinal);
        if (old.Length == 0) return InsertEverywhere(s, repl, count);
        var sb = new StringBuilder();
        int pos = 0;
        while (count-- > 0)
        {
            int i = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (i < 0) break;
            sb.Append(s, pos, i - pos).Append(repl);
            pos = i + old.Length;
        }
        sb.Append(s, pos, s.Length - pos);
        return sb.ToString();
    }

    static string InsertEverywhere(string s, string repl, long count)
    {
        var sb = new StringBuilder();
        long n = 0;
        foreach (var c in s)
        {
            if (n++ < count) sb.Append(repl);
            sb.Append(c);
        }
        if (n < count) sb.Append(repl);
        return sb.ToString();
    }

    /// <summary>Jinja's striptags: comments and tags removed, whitespace collapsed, entities decoded.</summary>
    public static string StripTags(string value)
    {
        int start;
        while ((start = value.IndexOf("<!--", StringComparison.Ordinal)) != -1)
        {
            int end = value.IndexOf("-->", start, StringComparison.Ordinal);
            if (end == -1) break;
            value = value[..start] + value[(end + 3)..];
        }
        while ((start = value.IndexOf('<')) != -1)
        {
            int end = value.IndexOf('>', start);
            if (end == -1) break;
            value = value[..start] + value[(end + 1)..];
        }
        value = string.Join(" ", value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return System.Net.WebUtility.HtmlDecode(value);
    }

    [GeneratedRegex(@"([-\s\(\{\[<]+)")]
    private static partial Regex WordBeginning();
    [GeneratedRegex(@"\w+")]
    private static partial Regex WordRe();

    /// <summary>The number of words (runs of \w), as the wordcount filter counts them.</summary>
    public static long WordCount(string s) => WordRe().Matches(s).Count;

    /// <summary>str.capitalize(): the first character upper case, the rest lower case.</summary>
    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>str.title() as Jinja's title filter does it: each word (after a space, dash or opening bracket) capitalized.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder();
        foreach (var item in WordBeginning().Split(s))
        {
            if (item.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(item[0])).Append(item[1..].ToLowerInvariant());
        }
        return sb.ToString();
    }
}
