using static Assay.Runtime.Templates.Py;

namespace Assay.Runtime.Templates;

/// <summary>
/// Jinja2's built-in filters: one table from name to function (an alias is a second name for the
/// same function). Jinja's tests are in <see cref="JinjaTests"/>, the str/dict/list methods in
/// <see cref="PyMethods"/>, <c>%</c>-formatting in <see cref="PercentFormat"/>.
/// </summary>
public static class TemplateFilters
{
    delegate object? FilterFn(Renderer r, object? value, CallArgs a);

    static readonly Dictionary<string, FilterFn> Table = new(StringComparer.Ordinal)
    {
        ["abs"] = (_, v, _) => Abs(v),
        ["attr"] = Attr,
        ["batch"] = Batch,
        ["capitalize"] = (_, v, _) => KeepMarkup(v, PyText.Capitalize(Str(v))),
        ["center"] = Center,
        ["count"] = (_, v, _) => Length(v), ["length"] = (_, v, _) => Length(v),
        ["d"] = Default, ["default"] = Default,
        ["dictsort"] = DictSort,
        ["e"] = (_, v, _) => EscapeValue(v), ["escape"] = (_, v, _) => EscapeValue(v),
        ["forceescape"] = (_, v, _) => new Markup(Escape(Str(v))),
        ["filesizeformat"] = (_, v, a) => FileSize(v, Truthy(a.Get(0, "binary", false))),
        ["first"] = (r, v, _) => r.Iterate(v) is { Count: > 0 } items ? items[0] : new Undefined("No first item, sequence was empty."),
        ["last"] = (r, v, _) => r.Iterate(v) is { Count: > 0 } items ? items[^1] : new Undefined("No last item, sequence was empty."),
        ["float"] = (_, v, a) => ToFloat(v, a.Get(0, "default", 0.0)),
        ["format"] = (_, v, a) => PercentFormat.Format(Str(v), a.Named.Count > 0 ? [] : a.Positional,
            a.Named.Count > 0 ? new OrderedDictionary<string, object?>(a.Named) : null),
        ["groupby"] = GroupBy,
        ["indent"] = (_, v, a) => Indent(v, a.Get(0, "width", 4L), Truthy(a.Get(1, "first", false)), Truthy(a.Get(2, "blank", false))),
        ["int"] = (_, v, a) => ToInt(v, a.Get(0, "default", 0L), IntArg(a.Get(1, "base", 10L), "base")),
        ["items"] = (_, v, _) => Items(v),
        ["join"] = Join,
        ["list"] = (r, v, _) => r.Iterate(v),
        ["lower"] = (_, v, _) => KeepMarkup(v, Str(v).ToLowerInvariant()),
        ["upper"] = (_, v, _) => KeepMarkup(v, Upper(Str(v))),
        ["map"] = Map,
        ["max"] = (r, v, a) => Extreme(r, v, a, max: true),
        ["min"] = (r, v, a) => Extreme(r, v, a, max: false),
        ["random"] = (r, v, _) => r.Iterate(v) is { Count: > 0 } items ? items[Random.Shared.Next(items.Count)] : new Undefined("No random item, sequence was empty."),
        ["select"] = (r, v, a) => Select(r, v, a, select: true, byAttr: false),
        ["reject"] = (r, v, a) => Select(r, v, a, select: false, byAttr: false),
        ["selectattr"] = (r, v, a) => Select(r, v, a, select: true, byAttr: true),
        ["rejectattr"] = (r, v, a) => Select(r, v, a, select: false, byAttr: true),
        ["replace"] = (_, v, a) => Replace(v, a),
        ["reverse"] = Reverse,
        ["round"] = (_, v, a) => Round(v, IntArg(a.Get(0, "precision", 0L), "precision"), Str(a.Get(1, "method", "common"))),
        ["safe"] = (_, v, _) => v is Markup ? v : new Markup(Str(v)),
        ["slice"] = (r, v, a) => SliceFilter(r, v, IntArg(a.Get(0, "slices"), "slices"), a.Get(1, "fill_with")),
        ["sort"] = Sort,
        ["string"] = (_, v, _) => v is Markup ? v : Str(v),
        ["striptags"] = (_, v, _) => PyText.StripTags(Str(v)),
        ["sum"] = Sum,
        ["title"] = (_, v, _) => KeepMarkup(v, PyText.Title(Str(v))),
        ["tojson"] = (_, v, a) => ToJson(v, a.Get(0, "indent")),
        ["trim"] = (_, v, a) => Trim(v, a.Get(0, "chars")),
        ["truncate"] = (_, v, a) => Truncate(v, IntArg(a.Get(0, "length", 255L), "length"), Truthy(a.Get(1, "killwords", false)),
            Str(a.Get(2, "end", "...")), IsNone(a.Get(3, "leeway")) ? 5 : IntArg(a.Get(3, "leeway"), "leeway")),
        ["unique"] = Unique,
        ["urlencode"] = UrlEncode,
        ["wordwrap"] = WordWrap,
        ["wordcount"] = (_, v, _) => PyText.WordCount(Str(v)),
        ["xmlattr"] = XmlAttr,
    };

    public static bool Exists(string name) => Table.ContainsKey(name);

    public static object? Filter(Renderer r, string name, object? value, CallArgs a) =>
        Table.TryGetValue(name, out var filter) ? filter(r, value, a) : throw new TemplateException($"no filter named '{name}'");

    // ---------------------------------------------------------------- filters with more than one line

    static object Abs(object? value) => value switch
    {
        long l => (object)checked(Math.Abs(l)),
        double d => Math.Abs(d),
        bool b => b ? 1L : 0L,
        _ => throw new TemplateException($"bad operand type for abs(): '{TypeName(value)}'"),
    };

    static object? Attr(Renderer r, object? value, CallArgs a)
    {
        var name = Str(a.Get(0, "name"));
        return value is OrderedDictionary<string, object?> d
            ? PyMethods.DictMethod(d, name) ?? new Undefined($"'dict object' has no attribute '{name}'")
            : r.GetAttr(value, name);
    }

    static object Batch(Renderer r, object? value, CallArgs a)
    {
        long n = IntArg(a.Get(0, "linecount"), "batch size");
        if (n <= 0) throw new TemplateException("batch size must be positive");
        bool fill = a.Has(1, "fill_with") && !IsNone(a.Get(1, "fill_with"));
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

    static object Center(Renderer _, object? value, CallArgs a)
    {
        var s = Str(value);
        long width = IntArg(a.Get(0, "width", 80L), "width");
        int len = StrLen(s);
        if (width <= len) return KeepMarkup(value, s);
        long marg = width - len;
        long left = marg / 2 + (marg & width & 1);
        return KeepMarkup(value, new string(' ', (int)left) + s + new string(' ', (int)(marg - left)));
    }

    static object? Default(Renderer _, object? value, CallArgs a)
    {
        var fallback = a.Get(0, "default_value", "");
        bool boolean = Truthy(a.Get(1, "boolean", false));
        return value is Undefined || (boolean && !Truthy(value)) ? fallback : value;
    }

    static object DictSort(Renderer _, object? value, CallArgs a)
    {
        if (value is not OrderedDictionary<string, object?> d) throw new TemplateException("dictsort: expected a dict");
        bool cs = Truthy(a.Get(0, "case_sensitive", false));
        var by = Str(a.Get(1, "by", "key"));
        bool reverse = Truthy(a.Get(2, "reverse", false));
        int pos = by == "key" ? 0 : by == "value" ? 1 : throw new TemplateException("You can only sort by either \"key\" or \"value\"");
        var items = d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList();
        return SortBy(items, x => Fold(((PyTuple)x!).Items[pos], cs), reverse);
    }

    static object Items(object? value)
    {
        if (value is Undefined) return new List<object?>();
        if (value is OrderedDictionary<string, object?> d) return d.Select(kv => (object?)new PyTuple([kv.Key, kv.Value])).ToList();
        throw new TemplateException($"Can only get item pairs from a mapping, got {TypeName(value)}");
    }

    static object Join(Renderer r, object? value, CallArgs a)
    {
        var items = r.Iterate(value);
        if (a.Has(1, "attribute")) items = items.Select(x => Attribute(r, x, a.Get(1, "attribute"))).ToList();
        var sep = a.Get(0, "d", "");
        if (r.Autoescape && (sep is Markup || items.Any(x => x is Markup)))
            return new Markup(string.Join(EscapeValue(sep).Value, items.Select(x => EscapeValue(x).Value)));
        return string.Join(Str(sep), items.Select(Str));
    }

    /// <summary>The max or min filter.</summary>
    static object? Extreme(Renderer r, object? value, CallArgs a, bool max)
    {
        var items = r.Iterate(value);
        if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
        bool cs = Truthy(a.Get(0, "case_sensitive", false));
        var attr = a.Get(1, "attribute");
        object? Key(object? x) => Fold(IsNone(attr) ? x : Attribute(r, x, attr), cs);
        var best = items[0];
        foreach (var x in items.Skip(1))
        {
            int c = Compare(Key(x), Key(best));
            if (max ? c > 0 : c < 0) best = x;
        }
        return best;
    }

    static object Replace(object? value, CallArgs a)
    {
        var s = Str(value);
        var old = Str(a.Get(0, "old"));
        var @new = a.Get(1, "new");
        long count = a.Has(2, "count") && !IsNone(a.Get(2, "count")) ? IntArg(a.Get(2, "count"), "count") : -1;
        // Markup.replace escapes the replacement (not the searched text)
        var repl = value is Markup ? EscapeValue(@new).Value : Str(@new);
        return KeepMarkup(value, PyText.Replace(s, old, repl, count));
    }

    static object Reverse(Renderer r, object? value, CallArgs _)
    {
        if (value is string or Markup)
        {
            var chars = Chars(Str(value));
            chars.Reverse();
            return KeepMarkup(value, string.Concat(chars.Select(c => (string)c!)));
        }
        var items = r.Iterate(value);
        items.Reverse();
        return items;
    }

    static object Sort(Renderer r, object? value, CallArgs a)
    {
        bool reverse = Truthy(a.Get(0, "reverse", false));
        bool cs = Truthy(a.Get(1, "case_sensitive", false));
        var attr = a.Get(2, "attribute");
        return SortBy(r.Iterate(value), x => MultiKey(r, x, attr, cs), reverse);
    }

    static object? Sum(Renderer r, object? value, CallArgs a)
    {
        var attr = a.Get(0, "attribute");
        object? total = a.Get(1, "start", 0L);
        foreach (var x in r.Iterate(value)) total = r.Binary("+", total, IsNone(attr) ? x : Attribute(r, x, attr));
        return total;
    }

    static Markup ToJson(object? value, object? indent)
    {
        var sb = new StringBuilder();
        Json(sb, value, IsNone(indent) ? -1 : (int)IntArg(indent, "indent"), 0);
        return new Markup(sb.ToString().Replace("<", "\\u003c").Replace(">", "\\u003e").Replace("&", "\\u0026").Replace("'", "\\u0027"));
    }

    static object Trim(object? value, object? chars)
    {
        var s = Str(value);
        return KeepMarkup(value, IsNone(chars) ? s.Trim() : s.Trim(Str(chars).ToCharArray()));
    }

    static object Unique(Renderer r, object? value, CallArgs a)
    {
        bool cs = Truthy(a.Get(0, "case_sensitive", false));
        var attr = a.Get(1, "attribute");
        var seen = new HashSet<string>();
        var result = new List<object?>();
        foreach (var x in r.Iterate(value))
        {
            var k = Repr(Fold(IsNone(attr) ? x : Attribute(r, x, attr), cs));
            if (seen.Add(k)) result.Add(x);
        }
        return result;
    }

    static object WordWrap(Renderer _, object? value, CallArgs a)
    {
        long width = IntArg(a.Get(0, "width", 79L), "width");
        bool breakLong = Truthy(a.Get(1, "break_long_words", true));
        var wrap = a.Get(2, "wrapstring");
        bool hyphens = Truthy(a.Get(3, "break_on_hyphens", true));
        string sep = IsNone(wrap) ? "\n" : Str(wrap);
        return string.Join(sep, PyText.SplitLines(Str(value)).Select(line => string.Join(sep, PyText.Wrap(line, (int)width, breakLong, hyphens))));
    }

    static object XmlAttr(Renderer r, object? value, CallArgs a)
    {
        if (value is not OrderedDictionary<string, object?> d) throw new TemplateException("xmlattr: expected a dict");
        var parts = new List<string>();
        foreach (var kv in d)
        {
            if (IsNone(kv.Value) || kv.Value is Undefined) continue;
            if (kv.Key.AsSpan().IndexOfAny(" \t\n\f/>=") >= 0) throw new TemplateException($"Invalid character in attribute name: {Repr(kv.Key)}");
            parts.Add($"{Escape(kv.Key)}=\"{EscapeValue(kv.Value).Value}\"");
        }
        var rv = string.Join(" ", parts);
        if (Truthy(a.Get(0, "autospace", true)) && rv.Length > 0) rv = " " + rv;
        return r.Autoescape ? new Markup(rv) : rv;
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

    static object? Fold(object? v, bool caseSensitive) => !caseSensitive && v is string or Markup ? Py.Str(v).ToLowerInvariant() : v;

    /// <summary>Jinja's attribute path lookup ("a.b.0"), used by sort/map/groupby/...</summary>
    static object? Attribute(Renderer r, object? item, object? attribute)
    {
        if (attribute is long idx) return r.GetItem(item, idx);
        var cur = item;
        foreach (var part in Py.Str(attribute).Split('.'))
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

    /// <summary>A stable sort by key (Python's sorted(key=...)), reversed on request.</summary>
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
        var name = Py.Str(a.Positional[0]);
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
        string? test = a.Positional.Count > skip ? Py.Str(a.Positional[skip]) : null;
        var rest = new CallArgs();
        rest.Positional.AddRange(a.Positional.Skip(skip + 1));
        rest.Named.AddRange(a.Named);
        var result = new List<object?>();
        foreach (var x in items)
        {
            var v = byAttr ? Attribute(r, x, attr) : x;
            bool ok = test == null ? Py.Truthy(v) : JinjaTests.Test(r, test, v, rest);
            if (ok == select) result.Add(x);
        }
        return result;
    }

    static string FileSize(object? value, bool binary)
    {
        double bytes = Py.IsString(value) ? double.Parse(Py.Str(value), CultureInfo.InvariantCulture) : Py.ToDouble(value);
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
                var s = Py.Str(v).Trim().Replace("_", "");
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
                var s = Py.Str(v).Trim().Replace("_", "");
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
        string ind = width is string or Markup ? Py.Str(width) : new string(' ', (int)Py.IntArg(width, "width"));
        string s = Py.Str(value) + "\n";
        var lines = PyText.SplitLines(s);
        string rv;
        if (blank) rv = string.Join("\n" + ind, lines);
        else
        {
            rv = lines[0];
            if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? ind + l : l));
        }
        if (first) rv = ind + rv;
        return Py.KeepMarkup(value, rv);
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

    static object Truncate(object? value, long length, bool killwords, string end, long leeway)
    {
        var s = Py.Str(value);
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

    static string UrlEncode(Renderer r, object? value, CallArgs _)
    {
        if (value is string or Markup || value is not (List<object?> or PyTuple or OrderedDictionary<string, object?>))
            return Quote(Py.Str(value), false);
        IEnumerable<(object? K, object? V)> pairs = value is OrderedDictionary<string, object?> d
            ? d.Select(kv => ((object?)kv.Key, kv.Value))
            : r.Iterate(value).Select(x => { var p = r.Iterate(x); return (p[0], p[1]); });
        return string.Join("&", pairs.Select(p => Quote(Py.Str(p.K), true) + "=" + Quote(Py.Str(p.V), true)));
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
            case string or Markup: JsonString(sb, Py.Str(v)); break;
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

    /// <summary>As json.dumps writes a string (ensure_ascii): everything outside printable ASCII as \uxxxx.</summary>
    static void JsonString(StringBuilder sb, string s) => JsonStyleString.Append(sb, s, static c => c < 0x20 || c > 0x7e);
}
