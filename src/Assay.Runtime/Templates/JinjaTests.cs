using static Assay.Runtime.Templates.Py;

namespace Assay.Runtime.Templates;

/// <summary>Jinja2's built-in tests (<c>x is defined</c>, <c>n is divisibleby(3)</c>): one table from name to function.</summary>
public static class JinjaTests
{
    delegate bool TestFn(Renderer r, object? value, CallArgs a);

    static readonly Dictionary<string, TestFn> Table = new(StringComparer.Ordinal)
    {
        ["defined"] = (_, v, _) => v is not Undefined,
        ["undefined"] = (_, v, _) => v is Undefined,
        ["none"] = (_, v, _) => IsNone(v),
        ["boolean"] = (_, v, _) => v is bool,
        ["true"] = (_, v, _) => v is true,
        ["false"] = (_, v, _) => v is false,
        ["integer"] = (_, v, _) => v is long,
        ["float"] = (_, v, _) => v is double,
        ["number"] = (_, v, _) => v is long or double or bool,
        ["string"] = (_, v, _) => v is string or Markup,
        ["mapping"] = (_, v, _) => v is OrderedDictionary<string, object?>,
        ["sequence"] = (_, v, _) => IsSequence(v),
        ["iterable"] = (_, v, _) => IsSequence(v),
        ["callable"] = (_, v, _) => v is PyCallable,
        ["escaped"] = (_, v, _) => v is Markup,
        ["lower"] = (_, v, _) => Str(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsUpper),
        ["upper"] = (_, v, _) => Str(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsLower),
        ["odd"] = (_, v, _) => IntArg(v, "value") % 2 != 0,
        ["even"] = (_, v, _) => IntArg(v, "value") % 2 == 0,
        ["divisibleby"] = DivisibleBy,
        ["sameas"] = (_, v, a) => SameAs(v, Other(a)),
        ["in"] = (r, v, a) => r.Contains(a.Get(0, "seq"), v),
        ["filter"] = (_, v, _) => TemplateFilters.Exists(Str(v)),
        ["test"] = (_, v, _) => Exists(Str(v)),
        ["=="] = Equal, ["eq"] = Equal, ["equalto"] = Equal,
        ["!="] = NotEqual, ["ne"] = NotEqual,
        [">"] = Greater, ["gt"] = Greater, ["greaterthan"] = Greater,
        [">="] = GreaterOrEqual, ["ge"] = GreaterOrEqual,
        ["<"] = Less, ["lt"] = Less, ["lessthan"] = Less,
        ["<="] = LessOrEqual, ["le"] = LessOrEqual,
    };

    public static bool Exists(string name) => Table.ContainsKey(name);

    public static bool Test(Renderer r, string name, object? value, CallArgs a) =>
        Table.TryGetValue(name, out var test) ? test(r, value, a) : throw new TemplateException($"no test named '{name}'");

    static object? Other(CallArgs a) => a.Get(0, "other");

    static bool IsSequence(object? v) => v is string or Markup or List<object?> or PyTuple or OrderedDictionary<string, object?>;

    static bool DivisibleBy(Renderer _, object? v, CallArgs a)
    {
        long n = IntArg(a.Get(0, "num"), "divisor");
        if (n == 0) throw new TemplateException("integer division or modulo by zero");
        return IntArg(v, "value") % n == 0;
    }

    /// <summary>Python's <c>is</c>: None and bools by value, small ints as CPython caches them (-5..256), the rest by identity.</summary>
    static bool SameAs(object? v, object? o)
    {
        if (IsNone(v) || v is bool || IsNone(o) || o is bool) return Equals(v, o) || (IsNone(v) && IsNone(o));
        if (v is long x && o is long y) return x == y && x >= -5 && x <= 256;
        return ReferenceEquals(v, o);
    }

    static bool Equal(Renderer _, object? v, CallArgs a) => PyEquals(v, Other(a));
    static bool NotEqual(Renderer _, object? v, CallArgs a) => !PyEquals(v, Other(a));
    static bool Greater(Renderer _, object? v, CallArgs a) => Compare(v, Other(a), ">") > 0;
    static bool GreaterOrEqual(Renderer _, object? v, CallArgs a) => Compare(v, Other(a), ">=") >= 0;
    static bool Less(Renderer _, object? v, CallArgs a) => Compare(v, Other(a), "<") < 0;
    static bool LessOrEqual(Renderer _, object? v, CallArgs a) => Compare(v, Other(a), "<=") <= 0;
}
