using Tomlyn;
using Tomlyn.Parsing;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>toml.parse(text)</c> → table (TOML 1.0 via Tomlyn's event parser; dates and times come
/// back as their TOML text, e.g. "1979-05-27T07:32:00Z") and <c>toml.encode(table)</c> → TOML
/// text (keys sorted, sub-tables and arrays of tables as [headers]). No reflection mapping:
/// NativeAOT-safe. Reference page: docs/modules/toml.md.
/// </summary>
public static class TomlModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("toml", ("parse", Parse), ("encode", Encode));
    }

    // ------------------------------------------------------------------ parse

    static int Parse(LuaCall call)
    {
        var text = call.CheckString(1);
        object root;
        try
        {
            root = Build(text);
        }
        catch (TomlException e)
        {
            var message = e.Diagnostics is { Count: > 0 } d ? d[0].Message : e.Message;
            // Tomlyn's own depth error tells a .NET caller which option to raise; a script cannot
            var tooDeep = System.Text.RegularExpressions.Regex.Match(message, @"^The maximum depth of (\d+) has been exceeded");
            if (tooDeep.Success) message = $"nesting deeper than {tooDeep.Groups[1].Value} levels";
            var where = e.Line > 0 ? $" at line {e.Line} column {e.Column}" : "";
            if (e.Diagnostics is { Count: > 0 } d2) where = $" at line {d2[0].Span.Start.Line + 1} column {d2[0].Span.Start.Column + 1}";
            return call.Fail($"{message.TrimEnd('.')}{where}");
        }
        catch (InvalidOperationException e)
        {
            return call.Fail(e.Message);
        }
        try
        {
            LuaValues.Push(call.L, root);
        }
        catch (LuaValueException e)
        {
            return call.Fail(e.Message);   // e.g. dotted keys nested deeper than the bridge allows
        }
        return 1;
    }

    /// <summary>Events → nested OrderedDictionary / List; a reopened table merges into the existing one.</summary>
    static OrderedDictionary<string, object?> Build(string text)
    {
        var parser = TomlParser.Create(text, new TomlParserOptions { Mode = TomlParserMode.Strict });
        var stack = new Stack<object>();
        var keys = new Stack<string?>();
        string? pendingKey = null;
        int line = 0, column = 0;
        OrderedDictionary<string, object?>? root = null;

        void Add(object? value)
        {
            if (stack.Count == 0) throw new InvalidOperationException("value outside of a table");
            switch (stack.Peek())
            {
                case OrderedDictionary<string, object?> map:
                    var key = pendingKey ?? throw new InvalidOperationException("value without a key");
                    if (map.ContainsKey(key)) throw new InvalidOperationException($"duplicate key \"{key}\" at line {line} column {column}");
                    map[key] = value;
                    pendingKey = null;
                    break;
                case List<object?> list:
                    list.Add(value);
                    break;
            }
        }

        object Open<T>(Func<T> create) where T : class
        {
            if (stack.Count > 0 && stack.Peek() is OrderedDictionary<string, object?> map && pendingKey != null
                && map.TryGetValue(pendingKey, out var existing) && existing is T reopened)
            {
                pendingKey = null;
                return reopened;
            }
            var created = create();
            if (stack.Count > 0) Add(created);
            return created;
        }

        while (parser.MoveNext())
        {
            var ev = parser.Current;
            line = ev.Line;
            column = ev.Column;
            switch (ev.Kind)
            {
                case TomlParseEventKind.StartTable:
                {
                    var table = stack.Count == 0 ? (root ??= new()) : Open(() => new OrderedDictionary<string, object?>());
                    keys.Push(pendingKey);
                    stack.Push(table);
                    break;
                }
                case TomlParseEventKind.StartArray:
                    keys.Push(pendingKey);
                    stack.Push(Open(() => new List<object?>()));
                    break;
                case TomlParseEventKind.EndTable:
                case TomlParseEventKind.EndArray:
                    stack.Pop();
                    keys.Pop();
                    pendingKey = null;
                    break;
                case TomlParseEventKind.PropertyName:
                    pendingKey = parser.GetPropertyName();
                    break;
                case TomlParseEventKind.String: Add(parser.GetString()); break;
                case TomlParseEventKind.Integer: Add(ev.GetInt64()); break;
                case TomlParseEventKind.Float: Add(ev.GetDouble()); break;
                case TomlParseEventKind.Boolean: Add(ev.GetBoolean()); break;
                case TomlParseEventKind.DateTime: Add(ev.GetTomlDateTime().ToString()); break;
            }
        }
        return root ?? new();
    }

    // ------------------------------------------------------------------ encode

    static int Encode(LuaCall call)
    {
        var L = call.L;
        if (L.TypeOf(1) != LuaType.Table) return call.Fail($"the top level must be a table, got {call.TypeName(1)}");
        object? value;
        try { value = LuaValues.ToClr(L, 1); }
        catch (LuaValueException e)
        {
            return call.Fail(e.Message);
        }
        var root = value switch
        {
            OrderedDictionary<string, object?> m => m,
            List<object?> { Count: 0 } => new OrderedDictionary<string, object?>(),
            _ => null,
        };
        if (root == null) return call.Fail("the top level must be a table with string keys, not a list");
        var sb = new StringBuilder();
        WriteTable(sb, root, []);
        L.PushString(sb.ToString());
        return 1;
    }

    static bool IsTableArray(object? v) => v is List<object?> { Count: > 0 } list && list.All(i => i is OrderedDictionary<string, object?>);

    static void WriteTable(StringBuilder sb, OrderedDictionary<string, object?> map, List<string> path)
    {
        foreach (var (k, v) in map)
        {
            if (v is OrderedDictionary<string, object?> || IsTableArray(v)) continue;
            sb.Append(Key(k)).Append(" = ");
            Value(sb, v, Path(path, k));
            sb.Append('\n');
        }
        foreach (var (k, v) in map)
        {
            var childPath = new List<string>(path) { k };
            if (v is OrderedDictionary<string, object?> child)
            {
                // a table holding only sub-tables needs no header of its own
                bool onlyTables = child.Count > 0 && child.Values.All(x => x is OrderedDictionary<string, object?> || IsTableArray(x));
                if (!onlyTables)
                {
                    if (sb.Length > 0) sb.Append('\n');
                    sb.Append('[').Append(string.Join('.', childPath.Select(Key))).Append("]\n");
                }
                WriteTable(sb, child, childPath);
            }
            else if (IsTableArray(v))
            {
                foreach (var item in (List<object?>)v!)
                {
                    if (sb.Length > 0) sb.Append('\n');
                    sb.Append("[[").Append(string.Join('.', childPath.Select(Key))).Append("]]\n");
                    WriteTable(sb, (OrderedDictionary<string, object?>)item!, childPath);
                }
            }
        }
    }

    static string Path(List<string> path, string key) => "$" + string.Concat(path.Append(key).Select(p => "." + p));

    static string Key(string k) =>
        k.Length > 0 && k.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? k : Quote(k);

    /// <summary>A TOML basic string: JSON's escapes, control characters as \uXXXX.</summary>
    static string Quote(string s) =>
        JsonStyleString.Append(new StringBuilder(), s, static c => c < 0x20 || c == 0x7f, upperCaseHex: true).ToString();

    static void Value(StringBuilder sb, object? v, string where)
    {
        switch (v)
        {
            case null or LuaNull: throw new BuiltinError($"TOML has no null value (at {where})");
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long n: sb.Append(n.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                if (double.IsNaN(d)) sb.Append("nan");
                else if (double.IsInfinity(d)) sb.Append(d > 0 ? "inf" : "-inf");
                else
                {
                    Span<byte> buf = stackalloc byte[40];
                    sb.Append(Encoding.ASCII.GetString(buf[..LuaTables.FormatFloat(d, buf)]));
                }
                break;
            case string s: sb.Append(Quote(s)); break;
            case byte[]: throw new BuiltinError($"invalid UTF-8 in string (at {where})");
            case List<object?> list:
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Value(sb, list[i], $"{where}[{i + 1}]");
                }
                sb.Append(']');
                break;
            case OrderedDictionary<string, object?> map:
                sb.Append('{');
                int j = 0;
                foreach (var (k, item) in map)
                {
                    sb.Append(j++ == 0 ? " " : ", ").Append(Key(k)).Append(" = ");
                    Value(sb, item, where + "." + k);
                }
                sb.Append(map.Count > 0 ? " }" : "}");
                break;
            default: throw new BuiltinError($"cannot encode a value of type {v.GetType().Name} (at {where})");
        }
    }
}
