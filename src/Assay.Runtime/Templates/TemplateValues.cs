namespace Assay.Runtime.Templates;

/// <summary>A template error: message plus the template name and line it happened at.</summary>
public class TemplateException(string message, string? template = null, int line = 0) : Exception(message)
{
    public string? Template { get; internal set; } = template;
    public int Line { get; internal set; } = line;
    public string Problem { get; } = message;

    public override string Message =>
        Template == null ? Problem : Line > 0 ? $"{Template}:{Line}: {Problem}" : $"{Template}: {Problem}";
}

/// <summary>A string marked safe for HTML (Jinja's Markup).</summary>
public sealed class Markup(string value)
{
    public string Value { get; } = value;
    public override string ToString() => Value;
    public override bool Equals(object? obj) => obj is Markup m && m.Value == Value;
    public override int GetHashCode() => Value.GetHashCode();
}

/// <summary>A missing value (Jinja's default Undefined): prints empty, iterates empty, is false.</summary>
public sealed class Undefined(string hint)
{
    public string Hint { get; } = hint;
    public TemplateException Error() => new(Hint);
    public static Undefined Named(string name) => new($"'{name}' is undefined");
}

/// <summary>A Python tuple, optionally with field names (groupby results).</summary>
public sealed class PyTuple(object?[] items, string[]? names = null)
{
    public object?[] Items { get; } = items;
    public string[]? Names { get; } = names;
}

/// <summary>Arguments of a call: positional and keyword.</summary>
public sealed class CallArgs
{
    public List<object?> Positional { get; } = [];
    public List<KeyValuePair<string, object?>> Named { get; } = [];

    public object? Get(int index, string name, object? fallback = null)
    {
        foreach (var kv in Named) if (kv.Key == name) return kv.Value;
        return index >= 0 && index < Positional.Count ? Positional[index] : fallback;
    }

    public bool Has(int index, string name)
    {
        foreach (var kv in Named) if (kv.Key == name) return true;
        return index >= 0 && index < Positional.Count;
    }
}

/// <summary>Something callable from a template: macros, globals, bound methods, loop helpers.</summary>
public abstract class PyCallable
{
    public abstract object? Call(Renderer r, CallArgs args);
}

public sealed class BuiltinCallable(string name, Func<Renderer, CallArgs, object?> fn) : PyCallable
{
    public string Name { get; } = name;
    public override object? Call(Renderer r, CallArgs args) => fn(r, args);
}

/// <summary>An object with attributes (namespace(), imported template modules, cycler, self).</summary>
public class PyObject
{
    public string TypeName { get; init; } = "object";
    public Dictionary<string, object?> Attrs { get; } = new(StringComparer.Ordinal);
    public bool Mutable { get; init; }
}

/// <summary>Python-compatible conversions, comparisons and formatting of template values.</summary>
public static class Py
{
    public static bool IsNumber(object? v) => v is long or double or bool;

    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        _ when IsNone(v) => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        Markup m => m.Value.Length > 0,
        List<object?> l => l.Count > 0,
        PyTuple t => t.Items.Length > 0,
        OrderedDictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    public static bool IsNone(object? v) => v is null || v is Assay.Lua.Values.LuaNull;

    /// <summary>A string result of the same kind as the input it came from: Markup in, Markup out.</summary>
    public static object KeepMarkup(object? original, string result) => original is Markup ? new Markup(result) : result;

    /// <summary>An integer argument of a filter, test or method (a bool counts, a float truncates); <paramref name="what"/> names it in the error.</summary>
    public static long IntArg(object? v, string what)
    {
        if (v is long or bool) return ToLong(v);
        if (v is double d) return (long)d;
        if (v is Undefined u) throw u.Error();
        throw new TemplateException($"{what} must be an integer, got {TypeName(v)}");
    }

    public static string Str(object? v) => v switch
    {
        null => "None",
        string s => s,
        Markup m => m.Value,
        Undefined => "",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        byte[] bytes => Repr(bytes),
        _ when IsNone(v) => "None",
        _ => Repr(v),
    };

    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        Repr(sb, v, 0);
        return sb.ToString();
    }

    static void Repr(StringBuilder sb, object? v, int depth)
    {
        if (depth > 100) { sb.Append("..."); return; }
        switch (v)
        {
            case string s: StrRepr(sb, s); break;
            case Markup m: sb.Append("Markup("); StrRepr(sb, m.Value); sb.Append(')'); break;
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++) { if (i > 0) sb.Append(", "); Repr(sb, list[i], depth + 1); }
                sb.Append(']');
                break;
            case PyTuple t:
                sb.Append('(');
                for (int i = 0; i < t.Items.Length; i++) { if (i > 0) sb.Append(", "); Repr(sb, t.Items[i], depth + 1); }
                if (t.Items.Length == 1) sb.Append(',');
                sb.Append(')');
                break;
            case OrderedDictionary<string, object?> d:
                sb.Append('{');
                bool first = true;
                foreach (var kv in d)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    StrRepr(sb, kv.Key); sb.Append(": "); Repr(sb, kv.Value, depth + 1);
                }
                sb.Append('}');
                break;
            case byte[] bytes:
                sb.Append("b'");
                foreach (var b in bytes)
                    if (b == '\\' || b == '\'') sb.Append('\\').Append((char)b);
                    else if (b >= 32 && b < 127) sb.Append((char)b);
                    else if (b == '\n') sb.Append("\\n");
                    else sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                sb.Append('\'');
                break;
            case Undefined: sb.Append("Undefined"); break;
            case PyObject o when o.TypeName == "Namespace":
                sb.Append("<Namespace ");
                Repr(sb, new OrderedDictionary<string, object?>(o.Attrs), depth + 1);
                sb.Append('>');
                break;
            case PyObject o: sb.Append('<').Append(o.TypeName).Append(" object>"); break;
            case LoopContext: sb.Append("<LoopContext>"); break;
            case PyCallable: sb.Append("<function>"); break;
            default: sb.Append(Str(v)); break;
        }
    }

    static void StrRepr(StringBuilder sb, string s)
    {
        char q = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(q);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == q) sb.Append('\\').Append(c);
                    else if (c < 32 || c == 127) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append(q);
    }

    /// <summary>Python's repr(float): shortest round-trip digits, exponent outside [-4, 16).</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // shortest round trip: "R" gives the digits; normalise them to mantissa + exponent
        string s = d.ToString("R", CultureInfo.InvariantCulture);
        bool neg = s.StartsWith('-');
        if (neg) s = s[1..];
        int exp = 0;
        int e = s.IndexOfAny(['E', 'e']);
        if (e >= 0) { exp = int.Parse(s[(e + 1)..], CultureInfo.InvariantCulture); s = s[..e]; }
        int dot = s.IndexOf('.');
        string digits;
        int pointPos; // digits before the decimal point
        if (dot >= 0) { digits = s[..dot] + s[(dot + 1)..]; pointPos = dot; }
        else { digits = s; pointPos = s.Length; }
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') lead++;
        digits = digits[lead..];
        pointPos -= lead;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int decExp = pointPos + exp - 1; // exponent of the first digit
        var sb = new StringBuilder();
        if (neg) sb.Append('-');
        if (decExp < -4 || decExp >= 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(decExp < 0 ? '-' : '+').Append(Math.Abs(decExp).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decExp < 0)
        {
            sb.Append("0.").Append('0', -decExp - 1).Append(digits);
        }
        else
        {
            int intDigits = decExp + 1;
            if (digits.Length <= intDigits) sb.Append(digits).Append('0', intDigits - digits.Length).Append(".0");
            else sb.Append(digits, 0, intDigits).Append('.').Append(digits, intDigits, digits.Length - intDigits);
        }
        return sb.ToString();
    }

    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        Markup => "Markup",
        List<object?> => "list",
        PyTuple => "tuple",
        OrderedDictionary<string, object?> => "dict",
        Undefined => "Undefined",
        byte[] => "bytes",
        LoopContext => "LoopContext",
        PyCallable => "function",
        PyObject o => o.TypeName,
        _ when IsNone(v) => "NoneType",
        _ => "object",
    };

    /// <summary>Python's str.upper(): also the one-to-many mappings (ß → SS, ligatures).</summary>
    public static string Upper(string s)
    {
        var u = s.ToUpperInvariant();
        if (u.AsSpan().IndexOfAny("ß\uFB00\uFB01\uFB02\uFB03\uFB04\uFB05\uFB06") < 0) return u;
        return u.Replace("ß", "SS").Replace("\uFB00", "FF").Replace("\uFB01", "FI").Replace("\uFB02", "FL")
            .Replace("\uFB03", "FFI").Replace("\uFB04", "FFL").Replace("\uFB05", "ST").Replace("\uFB06", "ST");
    }

    public static string Escape(string s)
    {
        int i = s.AsSpan().IndexOfAny("&<>\"'");
        if (i < 0) return s;
        var sb = new StringBuilder(s.Length + 16);
        sb.Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&#34;"); break;
                case '\'': sb.Append("&#39;"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    public static Markup EscapeValue(object? v) => v is Markup m ? m : new Markup(Escape(Str(v)));

    public static bool IsString(object? v) => v is string or Markup;

    public static string? AsString(object? v) => v switch { string s => s, Markup m => m.Value, _ => null };

    public static bool PyEquals(object? a, object? b)
    {
        if (IsNone(a) || IsNone(b)) return IsNone(a) && IsNone(b);
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a) == ToDouble(b);
            return ToLong(a) == ToLong(b);
        }
        if (IsString(a) && IsString(b)) return AsString(a) == AsString(b);
        if (a is List<object?> la && b is List<object?> lb)
        {
            if (la.Count != lb.Count) return false;
            for (int i = 0; i < la.Count; i++) if (!PyEquals(la[i], lb[i])) return false;
            return true;
        }
        if (a is PyTuple ta && b is PyTuple tb)
        {
            if (ta.Items.Length != tb.Items.Length) return false;
            for (int i = 0; i < ta.Items.Length; i++) if (!PyEquals(ta.Items[i], tb.Items[i])) return false;
            return true;
        }
        if (a is OrderedDictionary<string, object?> da && b is OrderedDictionary<string, object?> db)
        {
            if (da.Count != db.Count) return false;
            foreach (var kv in da)
                if (!db.TryGetValue(kv.Key, out var other) || !PyEquals(kv.Value, other)) return false;
            return true;
        }
        return ReferenceEquals(a, b) || Equals(a, b);
    }

    public static long ToLong(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => (long)d,
        _ => throw new TemplateException($"expected a number, got {TypeName(v)}"),
    };

    public static double ToDouble(object? v) => v switch
    {
        bool b => b ? 1 : 0,
        long l => l,
        double d => d,
        _ => throw new TemplateException($"expected a number, got {TypeName(v)}"),
    };

    /// <summary>Python ordering (&lt;): numbers, strings, sequences; anything else is a TypeError.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a).CompareTo(ToDouble(b));
            return ToLong(a).CompareTo(ToLong(b));
        }
        if (IsString(a) && IsString(b)) return Math.Sign(string.CompareOrdinal(AsString(a), AsString(b)));
        if ((a is List<object?> || a is PyTuple) && a?.GetType() == b?.GetType())
        {
            var la = Seq(a!); var lb = Seq(b!);
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                if (PyEquals(la[i], lb[i])) continue;
                return Compare(la[i], lb[i], op);
            }
            return la.Count.CompareTo(lb.Count);
        }
        if (a is Undefined u) throw u.Error();
        if (b is Undefined u2) throw u2.Error();
        throw new TemplateException($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    static IReadOnlyList<object?> Seq(object v) => v is PyTuple t ? t.Items : (List<object?>)v;

    /// <summary>Number of characters as Python counts them (code points).</summary>
    public static int StrLen(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++) { n++; if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++; }
        return n;
    }

    public static List<object?> Chars(string s)
    {
        var list = new List<object?>(s.Length);
        foreach (var r in s.EnumerateRunes()) list.Add(r.ToString());
        return list;
    }
}
