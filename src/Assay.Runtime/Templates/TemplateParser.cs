namespace Assay.Runtime.Templates;

/// <summary>Recursive-descent parser: tokens → statements and expressions (Jinja2's grammar).</summary>
public sealed class TemplateParser
{
    readonly List<Tok> _t;
    readonly Template _tmpl;
    int _i;

    TemplateParser(List<Tok> tokens, Template tmpl) { _t = tokens; _tmpl = tmpl; }

    public static Template Parse(string source, string name, bool autoescape)
    {
        var tmpl = new Template { Name = name, Autoescape = autoescape };
        var p = new TemplateParser(TemplateLexer.Tokenize(source, name), tmpl);
        tmpl.Body = p.Subparse(null, out _);
        return tmpl;
    }

    Tok Cur => _t[_i];
    Tok Peek(int n = 1) => _t[Math.Min(_i + n, _t.Count - 1)];
    Tok Next() => _t[_i++];

    TemplateException Fail(string msg, int? line = null) => new(msg, _tmpl.Name, line ?? Cur.Line);

    Tok Expect(TokKind kind, string? value = null)
    {
        var t = Cur;
        if (t.Kind != kind || (value != null && t.Value != value))
            throw Fail($"expected {(value != null ? $"'{value}'" : kind.ToString().ToLowerInvariant())}, got {t}");
        _i++;
        return t;
    }

    bool SkipOp(string op) { if (Cur.IsOp(op)) { _i++; return true; } return false; }
    bool SkipName(string n) { if (Cur.IsName(n)) { _i++; return true; } return false; }

    /// <summary>Parses nodes until a block tag whose name is in <paramref name="ends"/>; that name is returned (its tag is left open).</summary>
    const int MaxNesting = 200;
    int _nesting;

    void Nest()
    {
        if (++_nesting > MaxNesting) throw Fail($"template nesting deeper than {MaxNesting} levels");
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
    }

    List<Node> Subparse(string[]? ends, out string? endedBy)
    {
        Nest();
        try { return SubparseInner(ends, out endedBy); }
        finally { _nesting--; }
    }

    List<Node> SubparseInner(string[]? ends, out string? endedBy)
    {
        var nodes = new List<Node>();
        endedBy = null;
        while (true)
        {
            var t = Cur;
            switch (t.Kind)
            {
                case TokKind.Eof:
                    if (ends != null) throw Fail($"unexpected end of template; expected {string.Join(" or ", ends.Select(e => $"'{e}'"))}");
                    return nodes;
                case TokKind.Data:
                    _i++;
                    nodes.Add(new OutputNode(t.Value) { Line = t.Line });
                    break;
                case TokKind.VarBegin:
                    _i++;
                    var e = ParseTupleExpr();
                    nodes.Add(new PrintNode(e) { Line = t.Line });
                    Expect(TokKind.VarEnd);
                    break;
                case TokKind.BlockBegin:
                    _i++;
                    var name = Cur;
                    if (name.Kind != TokKind.Name) throw Fail("tag name expected");
                    if (ends != null && ends.Contains(name.Value)) { endedBy = name.Value; return nodes; }
                    nodes.Add(ParseStatement());
                    break;
                default:
                    throw Fail($"unexpected {t}");
            }
        }
    }

    List<Node> Body(string[] ends, out string endedBy)
    {
        var body = Subparse(ends, out var e);
        endedBy = e!;
        _i++; // the end tag's name
        return body;
    }

    void EndTag() => Expect(TokKind.BlockEnd);

    Node ParseStatement()
    {
        var tag = Next();
        int line = tag.Line;
        Node n = tag.Value switch
        {
            "if" => ParseIf(),
            "for" => ParseFor(),
            "set" => ParseSet(),
            "macro" => ParseMacro(),
            "call" => ParseCallBlock(),
            "filter" => ParseFilterBlock(),
            "block" => ParseBlock(),
            "extends" => ParseExtends(),
            "include" => ParseInclude(),
            "import" => ParseImport(),
            "from" => ParseFrom(),
            "with" => ParseWith(),
            "autoescape" => ParseAutoescape(),
            "elif" or "else" or "endif" or "endfor" or "endmacro" or "endblock" or "endset" or "endcall" or "endfilter" or "endwith" or "endautoescape"
                => throw Fail($"unexpected '{tag.Value}' (no open block expects it)", line),
            "break" or "continue" or "do" => throw Fail($"'{tag.Value}' needs a Jinja extension that is not enabled", line),
            _ => throw Fail($"unknown tag '{tag.Value}'", line),
        };
        n.Line = line;
        return n;
    }

    Node ParseIf()
    {
        var node = new IfNode();
        var test = ParseTupleExpr();
        EndTag();
        while (true)
        {
            var body = Body(["elif", "else", "endif"], out var end);
            node.Branches.Add((test, body));
            if (end == "elif") { test = ParseTupleExpr(); EndTag(); continue; }
            if (end == "else")
            {
                EndTag();
                node.Else = Body(["endif"], out _);
            }
            EndTag();
            return node;
        }
    }

    Node ParseFor()
    {
        var node = new ForNode { Target = ParseAssignTarget() };
        Expect(TokKind.Name, "in");
        node.Iter = ParseTupleExpr(noCondExpr: true);
        if (SkipName("if")) node.Filter = ParseTupleExpr();
        if (SkipName("recursive")) node.Recursive = true;
        EndTag();
        node.Body = Body(["endfor", "else"], out var end);
        if (end == "else")
        {
            EndTag();
            node.Else = Body(["endfor"], out _);
        }
        EndTag();
        return node;
    }

    Expr ParseAssignTarget(bool allowAttr = false)
    {
        var first = ParseTargetName(allowAttr);
        if (!Cur.IsOp(",")) return first;
        var items = new List<Expr> { first };
        while (SkipOp(","))
        {
            if (Cur.IsName("in") || Cur.IsOp("=")) break;
            items.Add(ParseTargetName(false));
        }
        return new TupleExpr(items) { Line = first.Line };
    }

    Expr ParseTargetName(bool allowAttr)
    {
        if (SkipOp("("))
        {
            var t = ParseAssignTarget();
            Expect(TokKind.Op, ")");
            return t;
        }
        var name = Expect(TokKind.Name);
        if (allowAttr && SkipOp("."))
        {
            var attr = Expect(TokKind.Name);
            return new GetAttrExpr(new NameExpr(name.Value) { Line = name.Line }, attr.Value) { Line = name.Line };
        }
        if (name.Value is "true" or "false" or "none" or "True" or "False" or "None")
            throw Fail($"can't assign to keyword '{name.Value}'");
        return new NameExpr(name.Value) { Line = name.Line };
    }

    Node ParseSet()
    {
        var target = ParseAssignTarget(allowAttr: true);
        if (SkipOp("="))
        {
            var value = ParseTupleExpr();
            EndTag();
            return new SetNode(target, value);
        }
        var filters = new List<FilterExpr>();
        while (SkipOp("|")) filters.Add(ParseFilterCall(null));
        EndTag();
        var body = Body(["endset"], out _);
        EndTag();
        return new SetBlockNode(target, body, filters);
    }

    List<MacroParam> ParseSignature()
    {
        var ps = new List<MacroParam>();
        Expect(TokKind.Op, "(");
        while (!Cur.IsOp(")"))
        {
            if (ps.Count > 0) Expect(TokKind.Op, ",");
            if (Cur.IsOp(")")) break;
            var name = Expect(TokKind.Name).Value;
            Expr? def = SkipOp("=") ? ParseExpression() : null;
            ps.Add(new MacroParam(name, def));
        }
        Expect(TokKind.Op, ")");
        return ps;
    }

    Node ParseMacro()
    {
        var node = new MacroNode { Name = Expect(TokKind.Name).Value };
        node.Params = ParseSignature();
        EndTag();
        node.Body = Body(["endmacro"], out _);
        EndTag();
        return node;
    }

    Node ParseCallBlock()
    {
        var node = new CallBlockNode();
        if (Cur.IsOp("(")) node.Params = ParseSignature();
        var call = ParseExpression();
        node.Call = call as CallExpr ?? throw Fail("expected a call after 'call'");
        EndTag();
        node.Body = Body(["endcall"], out _);
        EndTag();
        return node;
    }

    Node ParseFilterBlock()
    {
        var filters = new List<FilterExpr> { ParseFilterCall(null) };
        while (SkipOp("|")) filters.Add(ParseFilterCall(null));
        EndTag();
        var body = Body(["endfilter"], out _);
        EndTag();
        return new FilterBlockNode(filters, body);
    }

    Node ParseBlock()
    {
        var name = Expect(TokKind.Name);
        var node = new BlockNode { Name = name.Value, Owner = _tmpl, Line = name.Line };
        if (SkipName("scoped")) node.Scoped = true;
        if (SkipName("required")) node.Required = true;
        EndTag();
        node.Body = Body(["endblock"], out _);
        if (Cur.Kind == TokKind.Name)
        {
            var endName = Next();
            if (endName.Value != node.Name) throw Fail($"mismatching name for block '{node.Name}': endblock '{endName.Value}'");
        }
        EndTag();
        if (_tmpl.Blocks.ContainsKey(node.Name)) throw Fail($"block '{node.Name}' defined twice", node.Line);
        _tmpl.Blocks[node.Name] = node;
        return node;
    }

    Node ParseExtends()
    {
        var e = ParseExpression();
        EndTag();
        return new ExtendsNode(e);
    }

    bool ParseContextModifier(bool fallback)
    {
        if ((Cur.IsName("with") || Cur.IsName("without")) && Peek().IsName("context"))
        {
            bool with = Next().Value == "with";
            _i++;
            return with;
        }
        return fallback;
    }

    Node ParseInclude()
    {
        var e = ParseExpression();
        bool ignore = false;
        if (Cur.IsName("ignore") && Peek().IsName("missing")) { _i += 2; ignore = true; }
        bool ctx = ParseContextModifier(true);
        EndTag();
        return new IncludeNode(e, ignore, ctx);
    }

    Node ParseImport()
    {
        var e = ParseExpression();
        Expect(TokKind.Name, "as");
        var alias = Expect(TokKind.Name).Value;
        bool ctx = ParseContextModifier(false);
        EndTag();
        return new ImportNode(e, alias, ctx);
    }

    Node ParseFrom()
    {
        var e = ParseExpression();
        Expect(TokKind.Name, "import");
        var names = new List<(string, string)>();
        bool ctx = false;
        while (true)
        {
            if (names.Count > 0 && !SkipOp(",")) break;
            if ((Cur.IsName("with") || Cur.IsName("without")) && Peek().IsName("context")) break;
            if (Cur.Kind != TokKind.Name) break;
            var n = Next().Value;
            var alias = SkipName("as") ? Expect(TokKind.Name).Value : n;
            names.Add((n, alias));
        }
        ctx = ParseContextModifier(false);
        EndTag();
        return new FromImportNode(e, names, ctx);
    }

    Node ParseWith()
    {
        var assigns = new List<(Expr, Expr)>();
        while (Cur.Kind != TokKind.BlockEnd)
        {
            if (assigns.Count > 0) Expect(TokKind.Op, ",");
            var target = ParseAssignTarget();
            Expect(TokKind.Op, "=");
            assigns.Add((target, ParseExpression()));
        }
        EndTag();
        var body = Body(["endwith"], out _);
        EndTag();
        return new WithNode(assigns, body);
    }

    Node ParseAutoescape()
    {
        var e = ParseExpression();
        EndTag();
        var body = Body(["endautoescape"], out _);
        EndTag();
        return new AutoescapeNode(e, body);
    }

    // ---------------------------------------------------------------- expressions

    Expr ParseTupleExpr(bool noCondExpr = false)
    {
        int line = Cur.Line;
        var first = noCondExpr ? ParseOr() : ParseExpression();
        if (!Cur.IsOp(",")) return first;
        var items = new List<Expr> { first };
        while (SkipOp(","))
        {
            if (Cur.Kind is TokKind.VarEnd or TokKind.BlockEnd || Cur.IsOp(")") || Cur.IsName("if")) break;
            items.Add(noCondExpr ? ParseOr() : ParseExpression());
        }
        return new TupleExpr(items) { Line = line };
    }

    Expr ParseExpression()
    {
        Nest();
        try { return ParseExpressionInner(); }
        finally { _nesting--; }
    }

    Expr ParseExpressionInner()
    {
        var e = ParseOr();
        while (Cur.IsName("if"))
        {
            int line = Cur.Line;
            _i++;
            var test = ParseOr();
            Expr? otherwise = SkipName("else") ? ParseExpression() : null;
            e = new CondExpr(test, e, otherwise) { Line = line };
        }
        return e;
    }

    Expr ParseOr()
    {
        var e = ParseAnd();
        while (Cur.IsName("or")) { int l = Next().Line; e = new BinaryExpr("or", e, ParseAnd()) { Line = l }; }
        return e;
    }

    Expr ParseAnd()
    {
        var e = ParseNot();
        while (Cur.IsName("and")) { int l = Next().Line; e = new BinaryExpr("and", e, ParseNot()) { Line = l }; }
        return e;
    }

    Expr ParseNot()
    {
        if (Cur.IsName("not"))
        {
            int l = Next().Line;
            Nest();
            try { return new UnaryExpr("not", ParseNot()) { Line = l }; }
            finally { _nesting--; }
        }
        return ParseCompare();
    }

    Expr ParseCompare()
    {
        int line = Cur.Line;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            var t = Cur;
            if (t.Kind == TokKind.Op && t.Value is "==" or "!=" or "<" or "<=" or ">" or ">=")
            {
                _i++;
                rest.Add((t.Value, ParseMath1()));
            }
            else if (t.IsName("in")) { _i++; rest.Add(("in", ParseMath1())); }
            else if (t.IsName("not") && Peek().IsName("in")) { _i += 2; rest.Add(("notin", ParseMath1())); }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest) { Line = line };
    }

    Expr ParseMath1()
    {
        var e = ParseConcat();
        while (Cur.IsOp("+") || Cur.IsOp("-"))
        {
            var op = Next();
            e = new BinaryExpr(op.Value, e, ParseConcat()) { Line = op.Line };
        }
        return e;
    }

    Expr ParseConcat()
    {
        int line = Cur.Line;
        var parts = new List<Expr> { ParseMath2() };
        while (SkipOp("~")) parts.Add(ParseMath2());
        return parts.Count == 1 ? parts[0] : new ConcatExpr(parts) { Line = line };
    }

    Expr ParseMath2()
    {
        var e = ParsePow();
        while (Cur.Kind == TokKind.Op && Cur.Value is "*" or "/" or "//" or "%")
        {
            var op = Next();
            e = new BinaryExpr(op.Value, e, ParsePow()) { Line = op.Line };
        }
        return e;
    }

    Expr ParsePow()
    {
        var e = ParseUnary();
        while (Cur.IsOp("**"))
        {
            var op = Next();
            e = new BinaryExpr("**", e, ParseUnary()) { Line = op.Line };
        }
        return e;
    }

    Expr ParseUnary(bool withFilter = true)
    {
        Nest();
        try { return ParseUnaryInner(withFilter); }
        finally { _nesting--; }
    }

    Expr ParseUnaryInner(bool withFilter)
    {
        var t = Cur;
        Expr e;
        if (t.IsOp("-")) { _i++; e = new UnaryExpr("-", ParseUnary(false)) { Line = t.Line }; }
        else if (t.IsOp("+")) { _i++; e = new UnaryExpr("+", ParseUnary(false)) { Line = t.Line }; }
        else e = ParsePrimary();
        e = ParsePostfix(e);
        if (withFilter) e = ParseFilterExpr(e);
        return e;
    }

    Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new ConstExpr(true) { Line = t.Line },
                    "false" or "False" => new ConstExpr(false) { Line = t.Line },
                    "none" or "None" => new ConstExpr(null) { Line = t.Line },
                    _ => new NameExpr(t.Value) { Line = t.Line },
                };
            case TokKind.Str:
            {
                var s = (string)t.Literal!;
                while (Cur.Kind == TokKind.Str) s += (string)Next().Literal!;
                return new ConstExpr(s) { Line = t.Line };
            }
            case TokKind.Int:
            case TokKind.Float:
                return new ConstExpr(t.Literal) { Line = t.Line };
            case TokKind.Op when t.Value == "(":
            {
                if (SkipOp(")")) return new TupleExpr([]) { Line = t.Line };
                var first = ParseExpression();
                if (SkipOp(")")) return first;
                var items = new List<Expr> { first };
                while (SkipOp(","))
                {
                    if (Cur.IsOp(")")) break;
                    items.Add(ParseExpression());
                }
                Expect(TokKind.Op, ")");
                return new TupleExpr(items) { Line = t.Line };
            }
            case TokKind.Op when t.Value == "[":
            {
                var items = new List<Expr>();
                while (!Cur.IsOp("]"))
                {
                    if (items.Count > 0) Expect(TokKind.Op, ",");
                    if (Cur.IsOp("]")) break;
                    items.Add(ParseExpression());
                }
                Expect(TokKind.Op, "]");
                return new ListExpr(items) { Line = t.Line };
            }
            case TokKind.Op when t.Value == "{":
            {
                var items = new List<(Expr, Expr)>();
                while (!Cur.IsOp("}"))
                {
                    if (items.Count > 0) Expect(TokKind.Op, ",");
                    if (Cur.IsOp("}")) break;
                    var k = ParseExpression();
                    Expect(TokKind.Op, ":");
                    items.Add((k, ParseExpression()));
                }
                Expect(TokKind.Op, "}");
                return new DictExpr(items) { Line = t.Line };
            }
            default:
                _i--;
                throw Fail($"unexpected {t}");
        }
    }

    Expr ParsePostfix(Expr e)
    {
        while (true)
        {
            var t = Cur;
            if (t.IsOp("."))
            {
                _i++;
                var n = Next();
                if (n.Kind == TokKind.Name) e = new GetAttrExpr(e, n.Value) { Line = t.Line };
                else if (n.Kind == TokKind.Int) e = new GetItemExpr(e, new ConstExpr(n.Literal)) { Line = t.Line };
                else throw Fail("expected name or number after '.'");
            }
            else if (t.IsOp("["))
            {
                _i++;
                e = new GetItemExpr(e, ParseSubscript()) { Line = t.Line };
                Expect(TokKind.Op, "]");
            }
            else if (t.IsOp("("))
            {
                e = new CallExpr(e, ParseCallArgs()) { Line = t.Line };
            }
            else return e;
        }
    }

    Expr ParseSubscript()
    {
        int line = Cur.Line;
        Expr? start = null, stop = null, step = null;
        if (!Cur.IsOp(":")) start = ParseExpression();
        if (!SkipOp(":")) return start!;
        if (!Cur.IsOp("]") && !Cur.IsOp(":")) stop = ParseExpression();
        if (SkipOp(":") && !Cur.IsOp("]")) step = ParseExpression();
        return new SliceExpr(start, stop, step) { Line = line };
    }

    ArgList ParseCallArgs()
    {
        Expect(TokKind.Op, "(");
        var args = new ArgList();
        bool first = true;
        while (!Cur.IsOp(")"))
        {
            if (!first) { Expect(TokKind.Op, ","); if (Cur.IsOp(")")) break; }
            first = false;
            if (SkipOp("*")) { args.Star = ParseExpression(); continue; }
            if (SkipOp("**")) { args.StarStar = ParseExpression(); continue; }
            if (Cur.Kind == TokKind.Name && Peek().IsOp("="))
            {
                var name = Next().Value;
                _i++;
                args.Named.Add((name, ParseExpression()));
            }
            else
            {
                if (args.Named.Count > 0) throw Fail("positional argument after keyword argument");
                args.Positional.Add(ParseExpression());
            }
        }
        Expect(TokKind.Op, ")");
        return args;
    }

    FilterExpr ParseFilterCall(Expr? operand)
    {
        var name = Expect(TokKind.Name);
        string full = name.Value;
        while (Cur.IsOp(".") && Peek().Kind == TokKind.Name) { _i++; full += "." + Next().Value; }
        var args = Cur.IsOp("(") ? ParseCallArgs() : new ArgList();
        return new FilterExpr(operand, full, args) { Line = name.Line };
    }

    Expr ParseFilterExpr(Expr e)
    {
        while (true)
        {
            if (Cur.IsOp("|"))
            {
                _i++;
                e = ParseFilterCall(e);
            }
            else if (Cur.IsName("is"))
            {
                int line = Next().Line;
                bool neg = SkipName("not");
                var name = Expect(TokKind.Name).Value;
                while (Cur.IsOp(".") && Peek().Kind == TokKind.Name) { _i++; name += "." + Next().Value; }
                ArgList args;
                if (Cur.IsOp("(")) args = ParseCallArgs();
                else if ((Cur.Kind is TokKind.Name or TokKind.Str or TokKind.Int or TokKind.Float || Cur.IsOp("[") || Cur.IsOp("{") || Cur.IsOp("-"))
                         && !(Cur.Kind == TokKind.Name && Cur.Value is "else" or "or" or "and" or "if" or "in" or "not" or "is"))
                {
                    args = new ArgList();
                    var arg = ParsePostfix(ParsePrimaryOrNeg());
                    args.Positional.Add(arg);
                }
                else args = new ArgList();
                e = new TestExpr(e, name, args, neg) { Line = line };
            }
            else if (Cur.IsOp("("))
            {
                e = new CallExpr(e, ParseCallArgs()) { Line = Cur.Line };
            }
            else return e;
        }
    }

    Expr ParsePrimaryOrNeg()
    {
        if (Cur.IsOp("-")) { int l = Next().Line; return new UnaryExpr("-", ParsePrimary()) { Line = l }; }
        return ParsePrimary();
    }
}
