using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Assay.Runtime.Templates;

/// <summary>Jinja2's built-in filters, tests and the methods templates call on str/dict/list.</summary>
public static partial class TemplateFilters
{
    public static readonly string[] FilterNames =
    [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "items",
        "join", "last", "length", "list", "lower", "map", "max", "min", "random", "reject", "rejectattr",
        "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags",
        "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "wordcount", "wordwrap", "xmlattr",
    ];

    public static readonly string[] TestNames =
    [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter",
        "float", "ge", "gt", "greaterthan", "in", "integer", "iterable", "le", "lessthan", "lower", "lt",
        "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "test", "true", "undefined",
        "upper", "==", "!=", "<", "<=", ">", ">=",
    ];

    static string S(object? v) => Py.Str(v);

    static object Keep(object? original, string result) => original is Markup ? new Markup(result) : result;

    static long Int(object? v, string what)
    {
        if (v is long or bool) return Py.ToLong(v);
        if (v is double d) return (long)d;
        if (v is Undefined u) throw u.Error();
        throw new TemplateException($"{what} must be an integer, got {Py.TypeName(v)}");
    }

    public static object? Filter(Renderer r, string name, object? value, CallArgs a)
    {
        switch (name)
        {
            case "abs":
                return value switch
                {
                    long l => (object)checked(Math.Abs(l)),
                    double d => Math.Abs(d),
                    bool b => b ? 1L : 0L,
                    _ => throw new TemplateException($"bad operand type for abs(): '{Py.TypeName(value)}'"),
                };
            case "attr":
                return value is OrderedDictionary<string, object?> dd
                    ? DictMethod(dd, S(a.Get(0, "name"))) ?? new Undefined($"'dict object' has no attribute '{S(a.Get(0, "name"))}'")
                    : r.GetAttr(value, S(a.Get(0, "name")));
            case "batch":
            {
                long n = Int(a.Get(0, "linecount"), "batch size");
                if (n <= 0) throw new TemplateException("batch size must be positive");
                bool fill = a.Has(1, "fill_with") && !Py.IsNone(a.Get(1, "fill_with"));
                var fillWith = a.Get(1, "fill_with");
                var result = new List<object?>();
                List<object?> cur = [];
                foreach (var x in r.Iterate(value))
                {
                    if (cur.Count == n) { result.Add(cur); cur = []; }
                    cur.Add(x);
                }
                if (cur.Count > 0)
                {
                    if (fill) while (cur.Count < n) cur.Add(fillWith);
                    result.Add(cur);
                }
                return result;
            }
            case "capitalize":
            {
                var s = S(value);
                return Keep(value, s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant());
            }
            case "center":
            {
                var s = S(value);
                long width = Int(a.Get(0, "width", 80L), "width");
                int len = Py.StrLen(s);
                if (width <= len) return Keep(value, s);
                long marg = width - len;
                long left = marg / 2 + (marg & width & 1);
                return Keep(value, new string(' ', (int)left) + s + new string(' ', (int)(marg - left)));
            }
            case "count":
            case "length":
                return Length(value);
            case "d":
            case "default":
            {
                var fallback = a.Get(0, "default_value", "");
                bool boolean = Py.Truthy(a.Get(1, "boolean", false));
                return value is Undefined || (boolean && !Py.Truthy(value)) ? fallback : value;
            }
            case "dictsort":
            {
                if (value is not OrderedDictionary<string, object?> d) throw new TemplateException("dictsort: expected a dict");
                bool cs = Py.Truthy(a.Get(0, "case_sensitive", false));
                var by = S(a.Get(1, "by", "key"));
                bool reverse = Py.Truthy(a.Get(2, "reverse", false));
                int pos = by == "key" ? 0 : by == "value" ? 1 : throw new TemplateException("You can only sort by either \"key\" or \"value\"");
                var items = d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList();
                return SortBy(items, x => Fold(((PyTuple)x!).Items[pos], cs), reverse);
            }
            case "e":
            case "escape":
                return Py.EscapeValue(value);
            case "forceescape":
                return new Markup(Py.Escape(S(value)));
            case "filesizeformat":
                return FileSize(value, Py.Truthy(a.Get(0, "binary", false)));
            case "first":
            {
                var items = r.Iterate(value);
                return items.Count > 0 ? items[0] : new Undefined("No first item, sequence was empty.");
            }
            case "last":
            {
                var items = r.Iterate(value);
                return items.Count > 0 ? items[^1] : new Undefined("No last item, sequence was empty.");
            }
            case "float":
                return ToFloat(value, a.Get(0, "default", 0.0));
            case "format":
                return PercentFormat(S(value), a.Named.Count > 0 ? [] : a.Positional,
                    a.Named.Count > 0 ? new OrderedDictionary<string, object?>(a.Named) : null);
            case "groupby":
                return GroupBy(r, value, a);
            case "indent":
                return Indent(value, a.Get(0, "width", 4L), Py.Truthy(a.Get(1, "first", false)), Py.Truthy(a.Get(2, "blank", false)));
            case "int":
                return ToInt(value, a.Get(0, "default", 0L), Int(a.Get(1, "base", 10L), "base"));
            case "items":
                if (value is Undefined) return new List<object?>();
                if (value is OrderedDictionary<string, object?> id) return id.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList();
                throw new TemplateException($"Can only get item pairs from a mapping, got {Py.TypeName(value)}");
            case "join":
            {
                var items = r.Iterate(value);
                if (a.Has(1, "attribute")) items = items.Select(x => Attribute(r, x, a.Get(1, "attribute"))).ToList();
                var sep = a.Get(0, "d", "");
                if (r.Autoescape && (sep is Markup || items.Any(x => x is Markup)))
                    return new Markup(string.Join(Py.EscapeValue(sep).Value, items.Select(x => Py.EscapeValue(x).Value)));
                return string.Join(S(sep), items.Select(S));
            }
            case "list":
                return r.Iterate(value);
            case "lower":
                return Keep(value, S(value).ToLowerInvariant());
            case "upper":
                return Keep(value, Py.Upper(S(value)));
            case "map":
                return Map(r, value, a);
            case "max":
            case "min":
            {
                var items = r.Iterate(value);
                if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
                bool cs = Py.Truthy(a.Get(0, "case_sensitive", false));
                var attr = a.Get(1, "attribute");
                object? Key(object? x) => Fold(Py.IsNone(attr) ? x : Attribute(r, x, attr), cs);
                var best = items[0];
                foreach (var x in items.Skip(1))
                {
                    int c = Py.Compare(Key(x), Key(best));
                    if (name == "max" ? c > 0 : c < 0) best = x;
                }
                return best;
            }
            case "random":
            {
                var items = r.Iterate(value);
                if (items.Count == 0) return new Undefined("No random item, sequence was empty.");
                return items[Random.Shared.Next(items.Count)];
            }
            case "select":
            case "reject":
            case "selectattr":
            case "rejectattr":
                return Select(r, value, a, name.StartsWith("select"), name.EndsWith("attr"));
            case "replace":
            {
                var s = S(value);
                var old = S(a.Get(0, "old"));
                var @new = a.Get(1, "new");
                long count = a.Has(2, "count") && !Py.IsNone(a.Get(2, "count")) ? Int(a.Get(2, "count"), "count") : -1;
                // Markup.replace escapes the replacement (not the searched text)
                bool markup = value is Markup;
                var repl = markup ? Py.EscapeValue(@new).Value : S(@new);
                return Keep(value, Replace(s, old, repl, count));
            }
            case "reverse":
                if (value is string or Markup)
                {
                    var chars = Py.Chars(S(value));
                    chars.Reverse();
                    return Keep(value, string.Concat(chars.Select(c => (string)c!)));
                }
                {
                    var items = r.Iterate(value);
                    items.Reverse();
                    return items;
                }
            case "round":
                return Round(value, Int(a.Get(0, "precision", 0L), "precision"), S(a.Get(1, "method", "common")));
            case "safe":
                return value is Markup ? value : new Markup(S(value));
            case "slice":
                return SliceFilter(r, value, Int(a.Get(0, "slices"), "slices"), a.Get(1, "fill_with"));
            case "sort":
            {
                bool reverse = Py.Truthy(a.Get(0, "reverse", false));
                bool cs = Py.Truthy(a.Get(1, "case_sensitive", false));
                var attr = a.Get(2, "attribute");
                var items = r.Iterate(value);
                return SortBy(items, x => MultiKey(r, x, attr, cs), reverse);
            }
            case "string":
                return value is Markup ? value : S(value);
            case "striptags":
                return StripTags(S(value));
            case "sum":
            {
                var attr = a.Get(0, "attribute");
                object? total = a.Get(1, "start", 0L);
                foreach (var x in r.Iterate(value)) total = r.Binary("+", total, Py.IsNone(attr) ? x : Attribute(r, x, attr));
                return total;
            }
            case "title":
                return Keep(value, Title(S(value)));
            case "tojson":
            {
                var sb = new StringBuilder();
                var indent = a.Get(0, "indent");
                Json(sb, value, Py.IsNone(indent) ? -1 : (int)Int(indent, "indent"), 0);
                return new Markup(sb.ToString().Replace("<", "\\u003c").Replace(">", "\\u003e").Replace("&", "\\u0026").Replace("'", "\\u0027"));
            }
            case "trim":
            {
                var chars = a.Get(0, "chars");
                var s = S(value);
                return Keep(value, Py.IsNone(chars) ? s.Trim() : s.Trim(S(chars).ToCharArray()));
            }
            case "truncate":
                return Truncate(value, Int(a.Get(0, "length", 255L), "length"), Py.Truthy(a.Get(1, "killwords", false)),
                    S(a.Get(2, "end", "...")), Py.IsNone(a.Get(3, "leeway")) ? 5 : Int(a.Get(3, "leeway"), "leeway"));
            case "unique":
            {
                bool cs = Py.Truthy(a.Get(0, "case_sensitive", false));
                var attr = a.Get(1, "attribute");
                var seen = new HashSet<string>();
                var result = new List<object?>();
                foreach (var x in r.Iterate(value))
                {
                    var k = Py.Repr(Fold(Py.IsNone(attr) ? x : Attribute(r, x, attr), cs));
                    if (seen.Add(k)) result.Add(x);
                }
                return result;
            }
            case "urlencode":
                return UrlEncode(r, value);
            case "wordwrap":
            {
                long width = Int(a.Get(0, "width", 79L), "width");
                bool breakLong = Py.Truthy(a.Get(1, "break_long_words", true));
                var wrap = a.Get(2, "wrapstring");
                bool hyphens = Py.Truthy(a.Get(3, "break_on_hyphens", true));
                string sep = Py.IsNone(wrap) ? "\n" : S(wrap);
                return string.Join(sep, SplitLines(S(value)).Select(line => string.Join(sep, Wrap(line, (int)width, breakLong, hyphens))));
            }
            case "wordcount":
                return (long)WordRe().Matches(S(value)).Count;
            case "xmlattr":
            {
                if (value is not OrderedDictionary<string, object?> d) throw new TemplateException("xmlattr: expected a dict");
                var parts = new List<string>();
                foreach (var kv in d)
                {
                    if (Py.IsNone(kv.Value) || kv.Value is Undefined) continue;
                    if (kv.Key.AsSpan().IndexOfAny(" \t\n\f/>=") >= 0) throw new TemplateException($"Invalid character in attribute name: {Py.Repr(kv.Key)}");
                    parts.Add($"{Py.Escape(kv.Key)}=\"{Py.EscapeValue(kv.Value).Value}\"");
                }
                var rv = string.Join(" ", parts);
                if (Py.Truthy(a.Get(0, "autospace", true)) && rv.Length > 0) rv = " " + rv;
                return r.Autoescape ? new Markup(rv) : rv;
            }
            default:
                throw new TemplateException($"no filter named '{name}'");
        }
    }

    public static bool Test(Renderer r, string name, object? v, CallArgs a, Scope scope)
    {
        object? Arg() => a.Get(0, "other");
        switch (name)
        {
            case "defined": return v is not Undefined;
            case "undefined": return v is Undefined;
            case "none": return Py.IsNone(v);
            case "boolean": return v is bool;
            case "true": return v is true;
            case "false": return v is false;
            case "integer": return v is long;
            case "float": return v is double;
            case "number": return v is long or double or bool;
            case "string": return v is string or Markup;
            case "mapping": return v is OrderedDictionary<string, object?>;
            case "sequence": return v is string or Markup or List<object?> or PyTuple or OrderedDictionary<string, object?>;
            case "iterable": return v is string or Markup or List<object?> or PyTuple or OrderedDictionary<string, object?>;
            case "callable": return v is PyCallable;
            case "escaped": return v is Markup;
            case "lower": { var s = S(v); return s.Any(char.IsLetter) && !s.Any(char.IsUpper); }
            case "upper": { var s = S(v); return s.Any(char.IsLetter) && !s.Any(char.IsLower); }
            case "odd": return Int(v, "value") % 2 != 0;
            case "even": return Int(v, "value") % 2 == 0;
            case "divisibleby": { long n = Int(a.Get(0, "num"), "divisor"); if (n == 0) throw new TemplateException("integer division or modulo by zero"); return Int(v, "value") % n == 0; }
            case "sameas":
            {
                var o = Arg();
                if (Py.IsNone(v) || v is bool || Py.IsNone(o) || o is bool) return Equals(v, o) || (Py.IsNone(v) && Py.IsNone(o));
                if (v is long x && o is long y) return x == y && x >= -5 && x <= 256;
                return ReferenceEquals(v, o);
            }
            case "in": return r.Contains(a.Get(0, "seq"), v);
            case "filter": return Array.IndexOf(FilterNames, S(v)) >= 0;
            case "test": return Array.IndexOf(TestNames, S(v)) >= 0;
            case "==" or "eq" or "equalto": return Py.PyEquals(v, Arg());
            case "!=" or "ne": return !Py.PyEquals(v, Arg());
            case ">" or "gt" or "greaterthan": return Py.Compare(v, Arg(), ">") > 0;
            case ">=" or "ge": return Py.Compare(v, Arg(), ">=") >= 0;
            case "<" or "lt" or "lessthan": return Py.Compare(v, Arg(), "<") < 0;
            case "<=" or "le": return Py.Compare(v, Arg(), "<=") <= 0;
            default: throw new TemplateException($"no test named '{name}'");
        }
    }

    // ---------------------------------------------------------------- helpers

    public static long Length(object? v) => v switch
    {
        string s => Py.StrLen(s),
        Markup m => Py.StrLen(m.Value),
        List<object?> l => l.Count,
        PyTuple t => t.Items.Length,
        OrderedDictionary<string, object?> d => d.Count,
        Undefined => 0,
        PyObject o when o.TypeName == "Namespace" => o.Attrs.Count,
        _ => throw new TemplateException($"object of type '{Py.TypeName(v)}' has no len()"),
    };

    static object? Fold(object? v, bool caseSensitive) => !caseSensitive && v is string or Markup ? S(v).ToLowerInvariant() : v;

    /// <summary>Jinja's attribute path lookup ("a.b.0"), used by sort/map/groupby/...</summary>
    static object? Attribute(Renderer r, object? item, object? attribute)
    {
        if (attribute is long idx) return r.GetItem(item, idx);
        var cur = item;
        foreach (var part in S(attribute).Split('.'))
            cur = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? r.GetItem(cur, n) : r.GetItem(cur, part);
        return cur;
    }

    static object? MultiKey(Renderer r, object? x, object? attr, bool cs)
    {
        if (Py.IsNone(attr)) return Fold(x, cs);
        if (attr is string s && s.Contains(','))
            return new PyTuple(s.Split(',').Select(p => Fold(Attribute(r, x, p.Trim()), cs)).ToArray());
        return Fold(Attribute(r, x, attr), cs);
    }

    static List<object?> SortBy(List<object?> items, Func<object?, object?> key, bool reverse)
    {
        var keyed = items.Select((x, i) => (Key: key(x), Item: x, Index: i)).ToList();
        keyed.Sort((p, q) =>
        {
            int c = Py.Compare(p.Key, q.Key);
            if (reverse) c = -c;
            return c != 0 ? c : p.Index.CompareTo(q.Index);
        });
        return keyed.Select(k => k.Item).ToList();
    }

    static object GroupBy(Renderer r, object? value, CallArgs a)
    {
        var attr = a.Get(0, "attribute");
        var dflt = a.Get(1, "default");
        bool cs = Py.Truthy(a.Get(2, "case_sensitive", false));
        object? Raw(object? x)
        {
            var v = Attribute(r, x, attr);
            return v is Undefined && !Py.IsNone(dflt) ? dflt : v;
        }
        var sorted = SortBy(r.Iterate(value), x => Fold(Raw(x), cs), false);
        var groups = new List<object?>();
        object? curKey = null;
        List<object?>? cur = null;
        object? grouper = null;
        foreach (var x in sorted)
        {
            var k = Fold(Raw(x), cs);
            if (cur == null || !Py.PyEquals(k, curKey))
            {
                if (cur != null) groups.Add(new PyTuple([grouper, cur], ["grouper", "list"]));
                cur = [];
                curKey = k;
                grouper = cs ? k : Raw(x);
            }
            cur.Add(x);
        }
        if (cur != null) groups.Add(new PyTuple([grouper, cur], ["grouper", "list"]));
        return groups;
    }

    static object Map(Renderer r, object? value, CallArgs a)
    {
        var items = r.Iterate(value);
        if (a.Positional.Count == 0 && a.Named.Any(kv => kv.Key == "attribute"))
        {
            var attr = a.Get(-1, "attribute");
            var dflt = a.Get(-1, "default");
            return items.Select(x =>
            {
                var v = Attribute(r, x, attr);
                return v is Undefined && a.Has(-1, "default") ? dflt : v;
            }).ToList();
        }
        if (a.Positional.Count == 0) throw new TemplateException("map requires a filter argument");
        var name = S(a.Positional[0]);
        var rest = new CallArgs();
        rest.Positional.AddRange(a.Positional.Skip(1));
        rest.Named.AddRange(a.Named);
        return items.Select(x => Filter(r, name, x, rest)).ToList();
    }

    static object Select(Renderer r, object? value, CallArgs a, bool select, bool byAttr)
    {
        var items = r.Iterate(value);
        int skip = 0;
        object? attr = null;
        if (byAttr) { attr = a.Positional.Count > 0 ? a.Positional[0] : throw new TemplateException("missing attribute"); skip = 1; }
        string? test = a.Positional.Count > skip ? S(a.Positional[skip]) : null;
        var rest = new CallArgs();
        rest.Positional.AddRange(a.Positional.Skip(skip + 1));
        rest.Named.AddRange(a.Named);
        var result = new List<object?>();
        foreach (var x in items)
        {
            var v = byAttr ? Attribute(r, x, attr) : x;
            bool ok = test == null ? Py.Truthy(v) : Test(r, test, v, rest, null!);
            if (ok == select) result.Add(x);
        }
        return result;
    }

    static string FileSize(object? value, bool binary)
    {
        double bytes = Py.IsString(value) ? double.Parse(S(value), CultureInfo.InvariantCulture) : Py.ToDouble(value);
        double b = binary ? 1024 : 1000;
        string[] prefixes = binary ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
        if (bytes == 1) return "1 Byte";
        if (bytes < b) return $"{(long)bytes} Bytes";
        double unit = 0;
        string prefix = "";
        for (int i = 0; i < prefixes.Length; i++)
        {
            unit = Math.Pow(b, i + 2);
            prefix = prefixes[i];
            if (bytes < unit) break;
        }
        return (b * bytes / unit).ToString("F1", CultureInfo.InvariantCulture) + " " + prefix;
    }

    static object? ToFloat(object? v, object? dflt)
    {
        switch (v)
        {
            case double d: return d;
            case long or bool: return Py.ToDouble(v);
            case string or Markup:
            {
                var s = S(v).Trim().Replace("_", "");
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
                var low = s.ToLowerInvariant();
                if (low is "inf" or "+inf" or "infinity") return double.PositiveInfinity;
                if (low is "-inf" or "-infinity") return double.NegativeInfinity;
                if (low is "nan") return double.NaN;
                return dflt;
            }
            default: return dflt;
        }
    }

    static object? ToInt(object? v, object? dflt, long bas)
    {
        switch (v)
        {
            case long l: return l;
            case bool b: return b ? 1L : 0L;
            case double d: return double.IsFinite(d) ? (long)Math.Truncate(d) : dflt;
            case string or Markup:
            {
                var s = S(v).Trim().Replace("_", "");
                if (bas == 10 && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
                if (bas != 10)
                {
                    try
                    {
                        bool neg = s.StartsWith('-');
                        var t = s.TrimStart('+', '-');
                        if (bas == 16 && t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) t = t[2..];
                        if (bas == 8 && t.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) t = t[2..];
                        if (bas == 2 && t.StartsWith("0b", StringComparison.OrdinalIgnoreCase)) t = t[2..];
                        long n = Convert.ToInt64(t, (int)bas);
                        return neg ? -n : n;
                    }
                    catch (Exception e) when (e is FormatException or ArgumentException or OverflowException) { return dflt; }
                }
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) return (long)Math.Truncate(d);
                return dflt;
            }
            default: return dflt;
        }
    }

    static object Indent(object? value, object? width, bool first, bool blank)
    {
        string ind = width is string or Markup ? S(width) : new string(' ', (int)Int(width, "width"));
        string s = S(value) + "\n";
        var lines = SplitLines(s);
        string rv;
        if (blank) rv = string.Join("\n" + ind, lines);
        else
        {
            rv = lines[0];
            if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? ind + l : l));
        }
        if (first) rv = ind + rv;
        return Keep(value, rv);
    }

    /// <summary>Python's str.splitlines() (without keepends).</summary>
    static List<string> SplitLines(string s)
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
    static List<string> Wrap(string text, int width, bool breakLong, bool hyphens)
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

    static string Replace(string s, string old, string repl, long count)
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

    static object Round(object? value, long precision, string method)
    {
        if (method is not ("common" or "ceil" or "floor")) throw new TemplateException("method must be common, ceil or floor");
        if (method == "common")
        {
            if (value is long or bool) return Py.ToLong(value);
            double d = Py.ToDouble(value);
            if (precision >= -15 && precision <= 15)
            {
                // Python rounds the exact binary value: 2.675 is 2.67499999… and rounds down.
                if (!decimal.TryParse(d.ToString("F40", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out var dec)) return d;
                if (precision >= 0) return (double)Math.Round(dec, (int)precision, MidpointRounding.ToEven);
                decimal scale = (decimal)Math.Pow(10, -precision);
                return (double)(Math.Round(dec / scale, 0, MidpointRounding.ToEven) * scale);
            }
            return d;
        }
        double p = Math.Pow(10, precision);
        double x = Py.ToDouble(value) * p;
        return (method == "ceil" ? Math.Ceiling(x) : Math.Floor(x)) / p;
    }

    static object SliceFilter(Renderer r, object? value, long slices, object? fillWith)
    {
        var seq = r.Iterate(value);
        int length = seq.Count;
        if (slices <= 0) throw new TemplateException("slices must be positive");
        long per = length / slices, extra = length % slices, offset = 0;
        var result = new List<object?>();
        for (long n = 0; n < slices; n++)
        {
            long start = offset + n * per;
            if (n < extra) offset++;
            long end = offset + (n + 1) * per;
            var tmp = seq.Skip((int)start).Take((int)(end - start)).ToList();
            if (!Py.IsNone(fillWith) && n >= extra) tmp.Add(fillWith);
            result.Add(tmp);
        }
        return result;
    }

    static string StripTags(string value)
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

    static string Title(string s)
    {
        var sb = new StringBuilder();
        foreach (var item in WordBeginning().Split(s))
        {
            if (item.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(item[0])).Append(item[1..].ToLowerInvariant());
        }
        return sb.ToString();
    }

    static object Truncate(object? value, long length, bool killwords, string end, long leeway)
    {
        var s = S(value);
        if (length < end.Length) throw new TemplateException($"expected length >= {end.Length}, got {length}");
        if (Py.StrLen(s) <= length + leeway) return value is Markup ? value : s;
        var chars = Py.Chars(s);
        string head = string.Concat(chars.Take((int)(length - end.Length)).Select(c => (string)c!));
        if (killwords) return head + end;
        int sp = head.LastIndexOf(' ');
        return (sp >= 0 ? head[..sp] : head) + end;
    }

    static string Quote(string s, bool forQs)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '~' || (!forQs && c == '/')) sb.Append(c);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        var r = sb.ToString();
        return forQs ? r.Replace("%20", "+") : r;
    }

    static string UrlEncode(Renderer r, object? value)
    {
        if (value is string or Markup || value is not (List<object?> or PyTuple or OrderedDictionary<string, object?>))
            return Quote(S(value), false);
        IEnumerable<(object? K, object? V)> pairs = value is OrderedDictionary<string, object?> d
            ? d.Select(kv => ((object?)kv.Key, kv.Value))
            : r.Iterate(value).Select(x => { var p = r.Iterate(x); return (p[0], p[1]); });
        return string.Join("&", pairs.Select(p => Quote(S(p.K), true) + "=" + Quote(S(p.V), true)));
    }

    static void Json(StringBuilder sb, object? v, int indent, int level)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : Py.FloatRepr(d));
                break;
            case string or Markup: JsonString(sb, S(v)); break;
            case List<object?> or PyTuple:
            {
                var items = v is PyTuple t ? [.. t.Items] : (List<object?>)v;
                if (items.Count == 0) { sb.Append("[]"); break; }
                sb.Append('[');
                for (int i = 0; i < items.Count; i++)
                {
                    if (i > 0) sb.Append(indent >= 0 ? "," : ", ");
                    if (indent >= 0) sb.Append('\n').Append(' ', indent * (level + 1));
                    Json(sb, items[i], indent, level + 1);
                }
                if (indent >= 0) sb.Append('\n').Append(' ', indent * level);
                sb.Append(']');
                break;
            }
            case OrderedDictionary<string, object?> d:
            {
                if (d.Count == 0) { sb.Append("{}"); break; }
                sb.Append('{');
                int i = 0;
                foreach (var kv in d.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (i++ > 0) sb.Append(indent >= 0 ? "," : ", ");
                    if (indent >= 0) sb.Append('\n').Append(' ', indent * (level + 1));
                    JsonString(sb, kv.Key);
                    sb.Append(": ");
                    Json(sb, kv.Value, indent, level + 1);
                }
                if (indent >= 0) sb.Append('\n').Append(' ', indent * level);
                sb.Append('}');
                break;
            }
            case Undefined u: throw new TemplateException("Object of type Undefined is not JSON serializable");
            default:
                if (Py.IsNone(v)) { sb.Append("null"); break; }
                throw new TemplateException($"Object of type {Py.TypeName(v)} is not JSON serializable");
        }
    }

    static void JsonString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Python's printf-style <c>str % args</c>.</summary>
    public static string PercentFormat(string fmt, List<object?> args, OrderedDictionary<string, object?>? named)
    {
        var sb = new StringBuilder();
        int ai = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            char c = fmt[i];
            if (c != '%') { sb.Append(c); continue; }
            if (++i >= fmt.Length) throw new TemplateException("incomplete format");
            if (fmt[i] == '%') { sb.Append('%'); continue; }
            object? arg;
            if (fmt[i] == '(')
            {
                int close = fmt.IndexOf(')', i);
                if (close < 0 || named == null) throw new TemplateException("format requires a mapping");
                var key = fmt[(i + 1)..close];
                arg = named.TryGetValue(key, out var nv) ? nv : throw new TemplateException($"KeyError: {Py.Repr(key)}");
                i = close + 1;
            }
            else
            {
                arg = null;
            }
            string flags = "";
            while (i < fmt.Length && "-+ 0#".Contains(fmt[i])) flags += fmt[i++];
            int start = i;
            while (i < fmt.Length && char.IsAsciiDigit(fmt[i])) i++;
            int width = i > start ? int.Parse(fmt[start..i], CultureInfo.InvariantCulture) : 0;
            int precision = -1;
            if (i < fmt.Length && fmt[i] == '.')
            {
                i++;
                start = i;
                while (i < fmt.Length && char.IsAsciiDigit(fmt[i])) i++;
                precision = i > start ? int.Parse(fmt[start..i], CultureInfo.InvariantCulture) : 0;
            }
            if (i >= fmt.Length) throw new TemplateException("incomplete format");
            char conv = fmt[i];
            if (named == null || fmt[start > 0 ? start - 1 : 0] != ')')
            {
                if (named == null)
                {
                    if (ai >= args.Count) throw new TemplateException("not enough arguments for format string");
                    arg = args[ai++];
                }
            }
            string body = conv switch
            {
                's' => precision >= 0 ? new string(S(arg).Take(precision).ToArray()) : S(arg),
                'r' => Py.Repr(arg),
                'd' or 'i' or 'u' => (arg is double dd ? (long)Math.Truncate(dd) : Py.ToLong(arg)).ToString(CultureInfo.InvariantCulture),
                'f' or 'F' => Py.ToDouble(arg).ToString("F" + (precision < 0 ? 6 : precision), CultureInfo.InvariantCulture),
                'e' => PyExp(Py.ToDouble(arg), precision < 0 ? 6 : precision),
                'x' => Py.ToLong(arg).ToString("x", CultureInfo.InvariantCulture),
                'X' => Py.ToLong(arg).ToString("X", CultureInfo.InvariantCulture),
                'o' => Convert.ToString(Py.ToLong(arg), 8),
                'c' => arg is long cl ? ((char)cl).ToString() : S(arg),
                _ => throw new TemplateException($"unsupported format character '{conv}'"),
            };
            bool numeric = conv is not ('s' or 'r' or 'c');
            if (numeric && flags.Contains('+') && !body.StartsWith('-')) body = "+" + body;
            else if (numeric && flags.Contains(' ') && !body.StartsWith('-')) body = " " + body;
            if (body.Length < width)
            {
                if (flags.Contains('-')) body = body.PadRight(width);
                else if (flags.Contains('0') && numeric)
                {
                    bool sign = body.Length > 0 && body[0] is '-' or '+' or ' ';
                    body = sign ? body[0] + body[1..].PadLeft(width - 1, '0') : body.PadLeft(width, '0');
                }
                else body = body.PadLeft(width);
            }
            sb.Append(body);
        }
        if (named == null && ai < args.Count && !(args.Count == 1 && args[0] is OrderedDictionary<string, object?>))
            throw new TemplateException("not all arguments converted during string formatting");
        return sb.ToString();
    }

    static string PyExp(double d, int precision)
    {
        var s = d.ToString((precision == 0 ? "0" : "0." + new string('0', precision)) + "e+00", CultureInfo.InvariantCulture);
        return s;
    }

    public static object Range(Renderer r, CallArgs a)
    {
        var p = a.Positional;
        if (p.Count == 0) throw new TemplateException("range expected at least 1 argument, got 0");
        long start = 0, stop, step = 1;
        if (p.Count == 1) stop = Int(p[0], "range argument");
        else { start = Int(p[0], "range argument"); stop = Int(p[1], "range argument"); if (p.Count > 2) step = Int(p[2], "range argument"); }
        if (step == 0) throw new TemplateException("range() arg 3 must not be zero");
        long count = step > 0 ? Math.Max(0, (stop - start + step - 1) / step) : Math.Max(0, (start - stop - step - 1) / -step);
        r.CheckSize(count);
        var list = new List<object?>((int)count);
        for (long i = 0; i < count; i++) list.Add(start + i * step);
        return list;
    }

    public static PyObject Cycler(List<object?> items)
    {
        if (items.Count == 0) throw new TemplateException("at least one item has to be provided");
        var c = new PyObject { TypeName = "Cycler" };
        int pos = 0;
        void Update() => c.Attrs["current"] = items[pos];
        Update();
        c.Attrs["next"] = new BuiltinCallable("next", (_, _) => { var v = items[pos]; pos = (pos + 1) % items.Count; Update(); return v; });
        c.Attrs["reset"] = new BuiltinCallable("reset", (_, _) => { pos = 0; Update(); return null; });
        return c;
    }

    // ---------------------------------------------------------------- methods

    public static object? DictMethod(OrderedDictionary<string, object?> d, string name) => name switch
    {
        "items" => new BuiltinCallable("items", (_, _) => d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList()),
        "keys" => new BuiltinCallable("keys", (_, _) => d.Keys.Select(k => (object?)k).ToList()),
        "values" => new BuiltinCallable("values", (_, _) => d.Values.ToList()),
        "get" => new BuiltinCallable("get", (_, a) => d.TryGetValue(S(a.Get(0, "key")), out var v) ? v : a.Get(1, "default")),
        _ => null,
    };

    public static object? ListMethod(List<object?> l, string name) => name switch
    {
        "index" => new BuiltinCallable("index", (_, a) =>
        {
            for (int i = 0; i < l.Count; i++) if (Py.PyEquals(l[i], a.Get(0, "value"))) return (long)i;
            throw new TemplateException("value is not in list");
        }),
        "count" => new BuiltinCallable("count", (_, a) => (long)l.Count(x => Py.PyEquals(x, a.Get(0, "value")))),
        _ => null,
    };

    public static object? StrMethod(Renderer r, object? str, string name)
    {
        var s = S(str);
        Func<Renderer, CallArgs, object?>? f = name switch
        {
            "upper" => (_, _) => Keep(str, Py.Upper(s)),
            "lower" => (_, _) => Keep(str, s.ToLowerInvariant()),
            "title" => (_, _) => Keep(str, Title(s)),
            "capitalize" => (rr, _) => Filter(rr, "capitalize", str, new CallArgs()),
            "strip" => (_, a) => Keep(str, Py.IsNone(a.Get(0, "chars")) ? s.Trim() : s.Trim(S(a.Get(0, "chars")).ToCharArray())),
            "lstrip" => (_, a) => Keep(str, Py.IsNone(a.Get(0, "chars")) ? s.TrimStart() : s.TrimStart(S(a.Get(0, "chars")).ToCharArray())),
            "rstrip" => (_, a) => Keep(str, Py.IsNone(a.Get(0, "chars")) ? s.TrimEnd() : s.TrimEnd(S(a.Get(0, "chars")).ToCharArray())),
            "startswith" => (_, a) => s.StartsWith(S(a.Get(0, "prefix")), StringComparison.Ordinal),
            "endswith" => (_, a) => s.EndsWith(S(a.Get(0, "suffix")), StringComparison.Ordinal),
            "replace" => (_, a) => Keep(str, Replace(s, S(a.Get(0, "old")), S(a.Get(1, "new")), a.Has(2, "count") ? Int(a.Get(2, "count"), "count") : -1)),
            "split" => (_, a) =>
            {
                var sep = a.Get(0, "sep");
                long max = a.Has(1, "maxsplit") ? Int(a.Get(1, "maxsplit"), "maxsplit") : -1;
                if (Py.IsNone(sep))
                {
                    var parts = s.Split((char[]?)null, max < 0 ? int.MaxValue : (int)max + 1, StringSplitOptions.RemoveEmptyEntries);
                    if (max >= 0 && parts.Length > max) parts[^1] = parts[^1].TrimStart();
                    return parts.Select(p => (object?)p).ToList();
                }
                return s.Split(S(sep), max < 0 ? int.MaxValue : (int)max + 1).Select(p => (object?)p).ToList();
            },
            "join" => (rr, a) => string.Join(s, rr.Iterate(a.Get(0, "iterable")).Select(S)),
            "count" => (_, a) => { var sub = S(a.Get(0, "sub")); if (sub.Length == 0) return (long)Py.StrLen(s) + 1; long n = 0; int p = 0; while ((p = s.IndexOf(sub, p, StringComparison.Ordinal)) >= 0) { n++; p += sub.Length; } return n; },
            "find" => (_, a) => (long)s.IndexOf(S(a.Get(0, "sub")), StringComparison.Ordinal),
            "isdigit" => (_, _) => s.Length > 0 && s.All(char.IsDigit),
            "isalpha" => (_, _) => s.Length > 0 && s.All(char.IsLetter),
            "isupper" => (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsLower),
            "islower" => (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsUpper),
            "center" => (rr, a) => Filter(rr, "center", str, a),
            "ljust" => (_, a) => s.PadRight((int)Int(a.Get(0, "width"), "width"), S(a.Get(1, "fillchar", " "))[0]),
            "rjust" => (_, a) => s.PadLeft((int)Int(a.Get(0, "width"), "width"), S(a.Get(1, "fillchar", " "))[0]),
            "zfill" => (_, a) => { int w = (int)Int(a.Get(0, "width"), "width"); return s.StartsWith('-') || s.StartsWith('+') ? s[0] + s[1..].PadLeft(w - 1, '0') : s.PadLeft(w, '0'); },
            "format" => (_, a) => StrFormat(s, a),
            _ => null,
        };
        return f == null ? null : new BuiltinCallable(name, f);
    }

    /// <summary>str.format with {} / {0} / {name} fields (no format specs beyond nothing).</summary>
    static string StrFormat(string s, CallArgs a)
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
                sb.Append(S(v));
                i = close;
            }
            else if (c == '}' && i + 1 < s.Length && s[i + 1] == '}') { sb.Append('}'); i++; }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
