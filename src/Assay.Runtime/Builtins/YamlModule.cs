using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>yaml.parse(text)</c>, <c>yaml.parse_all(text)</c>, <c>yaml.encode(value)</c>. Built on
/// YamlDotNet's parser and emitter event API (no reflection serializer: NativeAOT-safe). Values
/// go through the shared Lua ⇄ data bridge (the rules of docs/modules/json.md, same as json). Scalars resolve by the
/// YAML 1.2 core schema; anchors, aliases and merge keys (&lt;&lt;) work; alias expansion is
/// bounded (billion laughs). Reference page: docs/modules/yaml.md.
/// </summary>
public static class YamlModule
{
    /// <summary>Nodes an input may expand to through aliases before it is refused.</summary>
    const long MaxExpandedNodes = 1_000_000;

    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("yaml",
            ("parse", static call => Parse(call, all: false)),
            ("parse_all", static call => Parse(call, all: true)),
            ("encode", Encode));
    }

    // ------------------------------------------------------------------ parse

    static int Parse(LuaCall call, bool all)
    {
        var text = call.CheckString(1);
        List<object?> docs;
        var reader = new Reader(text);
        try
        {
            docs = reader.Documents();
        }
        catch (YamlException e)
        {
            return call.Fail(Describe(e));
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner gives up on some malformed flow collections without a YamlException
            return call.Fail($"malformed YAML after line {reader.Last.Line} column {reader.Last.Column}");
        }
        if (!all && docs.Count > 1)
            return call.Fail($"the input holds {docs.Count} documents (use yaml.parse_all)");
        try
        {
            // an alias can nest an anchored collection deeper than the text itself: Push bounds that too
            LuaValues.Push(call.L, all ? docs : docs.Count == 0 || docs[0] is LuaNull ? null : docs[0]);
        }
        catch (LuaValueException e)
        {
            return call.Fail(e.Message);
        }
        return 1;
    }

    static readonly Regex MarkPrefix = new(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ", RegexOptions.CultureInvariant);

    static string Describe(YamlException e)
    {
        var inner = e;
        while (inner.InnerException is YamlException deeper) inner = deeper;
        var message = MarkPrefix.Replace(inner.Message, "").TrimEnd('.');
        return $"{message} at line {inner.Start.Line} column {inner.Start.Column}";
    }


    sealed class Reader(string text)
    {
        readonly IParser _parser = new Parser(new StringReader(text));
        readonly Dictionary<string, (object? Value, long Size)> _anchors = [];
        long _expanded;
        int _depth;   // open sequences and mappings: bounded, so deep input is an error, not a stack overflow

        /// <summary>Where the last event ended (for errors the scanner reports without a position).</summary>
        public Mark Last { get; private set; } = Mark.Empty;

        public List<object?> Documents()
        {
            var docs = new List<object?>();
            _parser.Consume<StreamStart>();
            while (_parser.TryConsume<DocumentStart>(out _))
            {
                _anchors.Clear();
                docs.Add(Node(out _) ?? LuaNull.Value);
                _parser.Consume<DocumentEnd>();
            }
            _parser.Consume<StreamEnd>();
            return docs;
        }

        static string Where(ParsingEvent e) => $"line {e.Start.Line} column {e.Start.Column}";

        object? Node(out long size)
        {
            var ev = _parser.Current ?? throw new BuiltinError("unexpected end of input");
            Last = ev.End;
            if (ev is not (SequenceStart or MappingStart)) return Read(ev, out size);
            if (_depth >= LuaTables.MaxDepth)
                throw new BuiltinError($"nesting deeper than {LuaTables.MaxDepth} levels at {Where(ev)}");
            _depth++;
            try { return Read(ev, out size); }
            finally { _depth--; }
        }

        /// <summary>One node: a scalar, an alias, or a whole collection (through <see cref="Node"/> for its items).</summary>
        object? Read(ParsingEvent ev, out long size)
        {
            switch (ev)
            {
                case AnchorAlias alias:
                {
                    _parser.MoveNext();
                    if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                        throw new BuiltinError($"unknown alias *{alias.Value.Value} at {Where(alias)}");
                    _expanded += target.Size;
                    if (_expanded > MaxExpandedNodes)
                        throw new BuiltinError($"aliases expand to more than {MaxExpandedNodes} nodes (a \"billion laughs\" document?) at {Where(alias)}");
                    size = target.Size;
                    return target.Value;
                }
                case Scalar scalar:
                {
                    _parser.MoveNext();
                    size = 1;
                    var value = Resolve(scalar);
                    Anchor(scalar, value, size);
                    return value;
                }
                case SequenceStart start:
                {
                    _parser.MoveNext();
                    var list = new List<object?>();
                    size = 1;
                    while (!_parser.TryConsume<SequenceEnd>(out _))
                    {
                        list.Add(Node(out long s) ?? LuaNull.Value);
                        size += s;
                    }
                    Anchor(start, list, size);
                    return list;
                }
                case MappingStart start:
                {
                    _parser.MoveNext();
                    var map = new OrderedDictionary<string, object?>();
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    var merges = new List<object?>();
                    size = 1;
                    while (!_parser.TryConsume<MappingEnd>(out _))
                    {
                        var keyEvent = _parser.Current!;
                        if (keyEvent is not Scalar keyScalar)
                        {
                            if (keyEvent is AnchorAlias)
                            {
                                var aliased = Node(out _);
                                if (aliased is string or long or double or bool) { keyScalar = new Scalar(Convert.ToString(aliased, CultureInfo.InvariantCulture)!); goto haveKey; }
                            }
                            throw new BuiltinError($"complex mapping keys (a list or mapping as a key) are not supported at {Where(keyEvent)}");
                        }
                        _parser.MoveNext();
                        if (!keyScalar.Anchor.IsEmpty) _anchors[keyScalar.Anchor.Value] = (keyScalar.Value, 1);
                    haveKey:
                        var key = keyScalar.Value;
                        bool isMerge = key == "<<" && keyScalar.Style == ScalarStyle.Plain;
                        var value = Node(out long s);
                        size += s + 1;
                        if (isMerge) { merges.Add(value); continue; }
                        if (!seen.Add(key)) throw new BuiltinError($"duplicate key \"{key}\" at {Where(keyEvent)}");
                        if (value != null && value is not LuaNull) map[key] = value;
                    }
                    foreach (var source in merges)
                    {
                        var sources = source is List<object?> l ? l : [source];
                        foreach (var src in sources)
                        {
                            if (src is not OrderedDictionary<string, object?> m)
                                throw new BuiltinError($"merge key << needs a mapping or a list of mappings at {Where(start)}");
                            foreach (var (k, v) in m)
                                if (seen.Add(k)) map[k] = v;
                        }
                    }
                    Anchor(start, map, size);
                    return map;
                }
                default:
                    throw new BuiltinError($"unexpected {ev.GetType().Name} at {Where(ev)}");
            }
        }

        void Anchor(NodeEvent node, object? value, long size)
        {
            if (!node.Anchor.IsEmpty) _anchors[node.Anchor.Value] = (value, size);
        }
    }

    const string TagPrefix = "tag:yaml.org,2002:";

    /// <summary>A scalar's value: explicit tags first, quoted scalars are strings, plain ones by the core schema.</summary>
    static object? Resolve(Scalar s)
    {
        var v = s.Value;
        if (!s.Tag.IsEmpty && !s.Tag.IsNonSpecific)
        {
            var tag = s.Tag.Value;
            switch (tag.StartsWith(TagPrefix, StringComparison.Ordinal) ? tag[TagPrefix.Length..] : tag)
            {
                case "str": return v;
                case "null": return null;
                case "bool": return ResolvePlain(v) as bool? ?? throw new BuiltinError($"invalid !!bool \"{v}\" at line {s.Start.Line} column {s.Start.Column}");
                case "int": return ResolvePlain(v) is long n ? n : throw new BuiltinError($"invalid !!int \"{v}\" at line {s.Start.Line} column {s.Start.Column}");
                case "float":
                    return ResolvePlain(v) switch
                    {
                        long whole => (double)whole,
                        double d => d,
                        _ => throw new BuiltinError($"invalid !!float \"{v}\" at line {s.Start.Line} column {s.Start.Column}"),
                    };
                case "binary":
                    if (!Base64Codec.TryDecode(Encoding.ASCII.GetBytes(v), url: false, out var bytes, out var problem))
                        throw new BuiltinError($"invalid !!binary ({problem}) at line {s.Start.Line} column {s.Start.Column}");
                    return bytes;
                default:
                    break;   // application tags (!Ref, !!python/...) are dropped; the value resolves as usual
            }
        }
        if (s.Style != ScalarStyle.Plain) return v;
        return ResolvePlain(v);
    }

    static object? ResolvePlain(string v)
    {
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return true;
            case "false" or "False" or "FALSE": return false;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF": return double.PositiveInfinity;
            case "-.inf" or "-.Inf" or "-.INF": return double.NegativeInfinity;
            case ".nan" or ".NaN" or ".NAN": return double.NaN;
        }
        char c = v[0];
        if (!(char.IsAsciiDigit(c) || c is '-' or '+' or '.')) return v;
        if (IntPattern.IsMatch(v))
            return long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? (object)n
                : double.Parse(v, CultureInfo.InvariantCulture);
        if (v.StartsWith("0x") && v.Length > 2 && v[2..].All(char.IsAsciiHexDigit) && v.Length <= 18)
            return (long)ulong.Parse(v[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (v.StartsWith("0o") && v.Length > 2 && v[2..].All(ch => ch is >= '0' and <= '7') && v.Length <= 23)
            return Convert.ToInt64(v[2..], 8);
        if (FloatPattern.IsMatch(v)) return double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture);
        return v;
    }

    static readonly Regex IntPattern = new(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant);
    static readonly Regex FloatPattern = new(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);

    // ------------------------------------------------------------------ encode

    static int Encode(LuaCall call)
    {
        call.CheckValue(1);
        object? value;
        try { value = LuaValues.ToClr(call.L, 1); }
        catch (LuaValueException e)
        {
            return call.Fail(e.Message);
        }
        int indent = (int)(call.Options(2, ["indent"]).Integer("indent", min: 2, max: 9) ?? 2);
        var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var emitter = new Emitter(writer, indent, int.MaxValue);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, true));
        Emit(emitter, value);
        emitter.Emit(new DocumentEnd(true));
        emitter.Emit(new StreamEnd());
        call.L.PushString(writer.ToString());
        return 1;
    }

    static void Plain(IEmitter emitter, string text) =>
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, text, ScalarStyle.Plain, true, false));

    static void Emit(IEmitter emitter, object? value)
    {
        switch (value)
        {
            case null or LuaNull: Plain(emitter, "null"); break;
            case bool b: Plain(emitter, b ? "true" : "false"); break;
            case long n: Plain(emitter, n.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                if (double.IsNaN(d)) Plain(emitter, ".nan");
                else if (double.IsInfinity(d)) Plain(emitter, d > 0 ? ".inf" : "-.inf");
                else
                {
                    Span<byte> buf = stackalloc byte[40];
                    Plain(emitter, Encoding.ASCII.GetString(buf[..LuaTables.FormatFloat(d, buf)]));
                }
                break;
            case string s:
            {
                // a string that would read back as something else (or is empty) is quoted
                var style = ResolvePlain(s.Length == 0 ? "" : s) is not string || s.Length == 0 || s != s.Trim() && !s.Contains('\n')
                    ? ScalarStyle.DoubleQuoted
                    : s.Contains('\n') ? ScalarStyle.Literal : ScalarStyle.Any;
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, s, style, true, true));
                break;
            }
            case byte[] bytes:
                emitter.Emit(new Scalar(AnchorName.Empty, new TagName(TagPrefix + "binary"), Convert.ToBase64String(bytes), ScalarStyle.Plain, false, false));
                break;
            case OrderedDictionary<string, object?> map:
                emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, map.Count == 0 ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var (k, v) in map)
                {
                    Emit(emitter, k);
                    Emit(emitter, v);
                }
                emitter.Emit(new MappingEnd());
                break;
            case List<object?> list:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, true, list.Count == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var item in list) Emit(emitter, item);
                emitter.Emit(new SequenceEnd());
                break;
            default:
                throw new BuiltinError($"cannot encode a value of type {value.GetType().Name}");
        }
    }
}
