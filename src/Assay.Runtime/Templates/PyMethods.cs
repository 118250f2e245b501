using static Assay.Runtime.Templates.Py;

namespace Assay.Runtime.Templates;

/// <summary>
/// The methods templates call on Python values: str (<c>s.upper()</c>), dict (<c>d.items()</c>) and
/// list (<c>l.index(x)</c>). One table per type from name to function; a lookup binds the receiver
/// and hands back a callable, or null when the type has no such method.
/// </summary>
public static class PyMethods
{
    delegate object? DictFn(OrderedDictionary<string, object?> d, CallArgs a);
    delegate object? ListFn(List<object?> l, CallArgs a);
    /// <summary>A str method: <paramref name="str"/> is the receiver as given (Markup stays Markup), <paramref name="s"/> its text.</summary>
    delegate object? StrFn(Renderer r, object? str, string s, CallArgs a);

    static readonly Dictionary<string, DictFn> DictTable = new(StringComparer.Ordinal)
    {
        ["items"] = (d, _) => d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList(),
        ["keys"] = (d, _) => d.Keys.Select(k => (object?)k).ToList(),
        ["values"] = (d, _) => d.Values.ToList(),
        ["get"] = (d, a) => d.TryGetValue(Str(a.Get(0, "key")), out var v) ? v : a.Get(1, "default"),
    };

    static readonly Dictionary<string, ListFn> ListTable = new(StringComparer.Ordinal)
    {
        ["index"] = (l, a) =>
        {
            for (int i = 0; i < l.Count; i++) if (PyEquals(l[i], a.Get(0, "value"))) return (long)i;
            throw new TemplateException("value is not in list");
        },
        ["count"] = (l, a) => (long)l.Count(x => PyEquals(x, a.Get(0, "value"))),
    };

    static readonly Dictionary<string, StrFn> StrTable = new(StringComparer.Ordinal)
    {
        ["upper"] = (_, str, s, _) => KeepMarkup(str, Upper(s)),
        ["lower"] = (_, str, s, _) => KeepMarkup(str, s.ToLowerInvariant()),
        ["title"] = (_, str, s, _) => KeepMarkup(str, PyText.Title(s)),
        ["capitalize"] = (_, str, s, _) => KeepMarkup(str, PyText.Capitalize(s)),
        ["strip"] = (_, str, s, a) => KeepMarkup(str, IsNone(a.Get(0, "chars")) ? s.Trim() : s.Trim(Str(a.Get(0, "chars")).ToCharArray())),
        ["lstrip"] = (_, str, s, a) => KeepMarkup(str, IsNone(a.Get(0, "chars")) ? s.TrimStart() : s.TrimStart(Str(a.Get(0, "chars")).ToCharArray())),
        ["rstrip"] = (_, str, s, a) => KeepMarkup(str, IsNone(a.Get(0, "chars")) ? s.TrimEnd() : s.TrimEnd(Str(a.Get(0, "chars")).ToCharArray())),
        ["startswith"] = (_, _, s, a) => s.StartsWith(Str(a.Get(0, "prefix")), StringComparison.Ordinal),
        ["endswith"] = (_, _, s, a) => s.EndsWith(Str(a.Get(0, "suffix")), StringComparison.Ordinal),
        ["replace"] = (_, str, s, a) => KeepMarkup(str, PyText.Replace(s, Str(a.Get(0, "old")), Str(a.Get(1, "new")), a.Has(2, "count") ? IntArg(a.Get(2, "count"), "count") : -1)),
        ["split"] = (_, _, s, a) => Split(s, a),
        ["join"] = (r, _, s, a) => string.Join(s, r.Iterate(a.Get(0, "iterable")).Select(Str)),
        ["count"] = (_, _, s, a) => Count(s, Str(a.Get(0, "sub"))),
        ["find"] = (_, _, s, a) => (long)s.IndexOf(Str(a.Get(0, "sub")), StringComparison.Ordinal),
        ["isdigit"] = (_, _, s, _) => s.Length > 0 && s.All(char.IsDigit),
        ["isalpha"] = (_, _, s, _) => s.Length > 0 && s.All(char.IsLetter),
        ["isupper"] = (_, _, s, _) => s.Any(char.IsLetter) && !s.Any(char.IsLower),
        ["islower"] = (_, _, s, _) => s.Any(char.IsLetter) && !s.Any(char.IsUpper),
        ["center"] = (r, str, _, a) => TemplateFilters.Filter(r, "center", str, a),
        ["ljust"] = (_, _, s, a) => s.PadRight((int)IntArg(a.Get(0, "width"), "width"), Str(a.Get(1, "fillchar", " "))[0]),
        ["rjust"] = (_, _, s, a) => s.PadLeft((int)IntArg(a.Get(0, "width"), "width"), Str(a.Get(1, "fillchar", " "))[0]),
        ["zfill"] = (_, _, s, a) => ZFill(s, (int)IntArg(a.Get(0, "width"), "width")),
        ["format"] = (_, _, s, a) => Format(s, a),
    };

    public static object? DictMethod(OrderedDictionary<string, object?> d, string name) =>
        DictTable.TryGetValue(name, out var f) ? new BuiltinCallable(name, (_, a) => f(d, a)) : null;

    public static object? ListMethod(List<object?> l, string name) =>
        ListTable.TryGetValue(name, out var f) ? new BuiltinCallable(name, (_, a) => f(l, a)) : null;

    public static object? StrMethod(object? str, string name)
    {
        if (!StrTable.TryGetValue(name, out var f)) return null;
        var s = Str(str);
        return new BuiltinCallable(name, (r, a) => f(r, str, s, a));
    }

    /// <summary>str.split(sep=None, maxsplit=-1): without a separator, runs of whitespace split and edges are dropped.</summary>
    static List<object?> Split(string s, CallArgs a)
    {
        var sep = a.Get(0, "sep");
        long max = a.Has(1, "maxsplit") ? IntArg(a.Get(1, "maxsplit"), "maxsplit") : -1;
        if (IsNone(sep))
        {
            var parts = s.Split((char[]?)null, max < 0 ? int.MaxValue : (int)max + 1, StringSplitOptions.RemoveEmptyEntries);
            if (max >= 0 && parts.Length > max) parts[^1] = parts[^1].TrimStart();
            return parts.Select(p => (object?)p).ToList();
        }
        return s.Split(Str(sep), max < 0 ? int.MaxValue : (int)max + 1).Select(p => (object?)p).ToList();
    }

    /// <summary>str.count(sub): non-overlapping occurrences; an empty sub matches between every character.</summary>
    static long Count(string s, string sub)
    {
        if (sub.Length == 0) return (long)StrLen(s) + 1;
        long n = 0;
        int p = 0;
        while ((p = s.IndexOf(sub, p, StringComparison.Ordinal)) >= 0) { n++; p += sub.Length; }
        return n;
    }

    /// <summary>str.zfill(width): zeros after the sign.</summary>
    static string ZFill(string s, int width) =>
        s.StartsWith('-') || s.StartsWith('+') ? s[0] + s[1..].PadLeft(width - 1, '0') : s.PadLeft(width, '0');

    /// <summary>str.format with {} / {0} / {name} fields (no format specs beyond nothing).</summary>
    static string Format(string s, CallArgs a)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '{')
            {
                if (i + 1 < s.Length && s[i + 1] == '{') { sb.Append('{'); i++; continue; }
                int close = s.IndexOf('}', i);
                if (close < 0) throw new TemplateException("Single '{' encountered in format string");
                var field = s[(i + 1)..close];
                object? v = field.Length == 0 ? a.Positional.ElementAtOrDefault(auto++)
                    : int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int idx) ? a.Positional.ElementAtOrDefault(idx)
                    : a.Get(-1, field);
                sb.Append(Str(v));
                i = close;
            }
            else if (c == '}' && i + 1 < s.Length && s[i + 1] == '}') { sb.Append('}'); i++; }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
