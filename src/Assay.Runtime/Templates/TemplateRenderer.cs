using System.Diagnostics;

namespace Assay.Runtime.Templates;

/// <summary>Variables of one scope; lookups fall through to the parent.</summary>
public sealed class Scope(Scope? parent)
{
    public Scope? Parent { get; } = parent;
    public Dictionary<string, object?> Vars { get; } = new(StringComparer.Ordinal);

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s != null; s = s.Parent)
            if (s.Vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    /// <summary>All visible variables, inner scopes winning (for include "with context").</summary>
    public Dictionary<string, object?> Flatten()
    {
        var chain = new List<Scope>();
        for (var s = this; s != null; s = s.Parent) chain.Add(s);
        var all = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (int i = chain.Count - 1; i >= 0; i--)
            foreach (var kv in chain[i].Vars) all[kv.Key] = kv.Value;
        return all;
    }
}

/// <summary>One template render (a Jinja "context"): the block table and the root variables.</summary>
public sealed class RenderContext(Template template, Scope root)
{
    public Template Template { get; set; } = template;
    public Scope Root { get; } = root;
    public Dictionary<string, List<BlockNode>> Blocks { get; } = new(StringComparer.Ordinal);
    public Template? Parent { get; set; }

    public void AddBlocks(Template t)
    {
        foreach (var (name, block) in t.Blocks)
        {
            if (!Blocks.TryGetValue(name, out var list)) Blocks[name] = list = [];
            list.Add(block);
        }
    }
}

/// <summary>The loop variable of a for loop.</summary>
public sealed class LoopContext : PyCallable
{
    public required List<object?> Items;
    public int Index0;
    public int Depth0;
    public object? LastChanged = new Undefined("no value");
    public required Func<Renderer, object?, object?> Recurse;

    public override object? Call(Renderer r, CallArgs args) => Recurse(r, args.Get(0, "iterable"));

    public object? Attr(string name) => name switch
    {
        "index" => (long)(Index0 + 1),
        "index0" => (long)Index0,
        "revindex" => (long)(Items.Count - Index0),
        "revindex0" => (long)(Items.Count - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Items.Count - 1,
        "length" => (long)Items.Count,
        "depth" => (long)(Depth0 + 1),
        "depth0" => (long)Depth0,
        "previtem" => Index0 > 0 ? Items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 + 1 < Items.Count ? Items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new BuiltinCallable("cycle", (_, a) =>
        {
            if (a.Positional.Count == 0) throw new TemplateException("no items for cycling given");
            return a.Positional[Index0 % a.Positional.Count];
        }),
        "changed" => new BuiltinCallable("changed", (_, a) =>
        {
            var v = new PyTuple([.. a.Positional]);
            if (LastChanged is PyTuple old && Py.PyEquals(old, v)) return false;
            LastChanged = v;
            return true;
        }),
        _ => new Undefined($"'LoopContext' object has no attribute '{name}'"),
    };
}

/// <summary>A macro (or a call block's caller) bound to the scope it was defined in.</summary>
public sealed class Macro(string name, List<MacroParam> ps, List<Node> body, Scope closure, RenderContext ctx, bool autoescape) : PyCallable
{
    public string Name { get; } = name;

    public override object? Call(Renderer r, CallArgs args)
    {
        r.Enter($"macro '{Name}'");
        try
        {
            var scope = new Scope(closure);
            var varargs = new List<object?>();
            for (int i = 0; i < args.Positional.Count; i++)
                if (i < ps.Count) scope.Vars[ps[i].Name] = args.Positional[i];
                else varargs.Add(args.Positional[i]);
            var kwargs = new OrderedDictionary<string, object?>();
            foreach (var (k, v) in args.Named)
            {
                if (ps.Any(p => p.Name == k))
                {
                    if (scope.Vars.ContainsKey(k)) throw new TemplateException($"macro '{Name}' got multiple values for argument '{k}'");
                    scope.Vars[k] = v;
                }
                else if (k == "caller") scope.Vars["caller"] = v;
                else kwargs[k] = v;
            }
            bool saved = r.Autoescape;
            r.Autoescape = autoescape;
            try
            {
                foreach (var p in ps)
                    if (!scope.Vars.ContainsKey(p.Name))
                        scope.Vars[p.Name] = p.Default != null ? r.Eval(p.Default, scope, ctx) : Undefined.Named(p.Name);
                scope.Vars["varargs"] = new PyTuple([.. varargs]);
                scope.Vars["kwargs"] = kwargs;
                if (!scope.Vars.ContainsKey("caller") && !closure.TryGet("caller", out _)) { }
                var sb = new StringBuilder();
                r.Exec(body, scope, ctx, sb);
                return r.Wrap(sb.ToString());
            }
            finally { r.Autoescape = saved; }
        }
        finally { r.Leave(); }
    }
}

/// <summary>Limits on one render.</summary>
public sealed class TemplateLimits
{
    /// <summary>Largest output (characters) of the render and of any captured part of it.</summary>
    public int MaxOutputChars { get; init; } = 32 * 1024 * 1024;
    /// <summary>Wall-clock budget for one render.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Nesting of macro calls, includes, imports and recursive loops.</summary>
    public int MaxDepth { get; init; } = 200;
}

/// <summary>Evaluates parsed templates against .NET values.</summary>
public sealed partial class Renderer
{
    readonly TemplateLoader _loader;
    readonly TemplateLimits _limits;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly CancellationToken _cancel;
    int _depth;
    int _steps;
    long _written;

    public bool Autoescape { get; set; }

    public Renderer(TemplateLoader loader, TemplateLimits? limits = null, CancellationToken cancel = default)
    {
        _loader = loader;
        _limits = limits ?? new TemplateLimits();
        _cancel = cancel;
    }

    public void Enter(string what)
    {
        if (++_depth > _limits.MaxDepth)
        {
            _depth--;
            throw new TemplateException($"recursion too deep ({_limits.MaxDepth} levels) in {what}");
        }
    }

    public void Leave() => _depth--;

    void Step()
    {
        if ((++_steps & 255) != 0) return;
        if (_clock.Elapsed > _limits.Timeout) throw new TemplateException($"render took longer than {_limits.Timeout.TotalSeconds:0.###} s");
        _cancel.ThrowIfCancellationRequested();
    }

    void Write(StringBuilder sb, string s)
    {
        _written += s.Length;
        if (sb.Length + s.Length > _limits.MaxOutputChars || _written > 8L * _limits.MaxOutputChars)
            throw new TemplateException($"output larger than {_limits.MaxOutputChars} characters");
        sb.Append(s);
    }

    public object Wrap(string s) => Autoescape ? new Markup(s) : s;

    /// <summary>A value as {{ … }} writes it: escaped when autoescaping (unless it is markup already).</summary>
    void WriteValue(StringBuilder sb, object? v) => Write(sb, Autoescape ? Py.EscapeValue(v).Value : Py.Str(v));

    /// <summary>The output of a block ({% set x %}…, {% filter f %}…) in its own scope, through its filters.</summary>
    object? RenderFiltered(List<Node> body, List<FilterExpr> filters, Scope scope, RenderContext ctx)
    {
        var inner = new StringBuilder();
        Exec(body, new Scope(scope), ctx, inner);
        object? v = Wrap(inner.ToString());
        foreach (var f in filters) v = ApplyFilter(f, v, scope, ctx);
        return v;
    }

    public void CheckSize(long n)
    {
        if (n > _limits.MaxOutputChars) throw new TemplateException($"value larger than {_limits.MaxOutputChars} elements");
    }

    // ---------------------------------------------------------------- templates

    /// <summary>Renders a template with the given root variables (handles extends).</summary>
    public string RenderTemplate(Template t, Scope root)
    {
        var sb = new StringBuilder();
        RenderInto(t, root, sb);
        return sb.ToString();
    }

    void RenderInto(Template t, Scope root, StringBuilder sb)
    {
        var ctx = new RenderContext(t, root);
        ctx.AddBlocks(t);
        root.Vars["self"] = SelfObject(ctx);
        bool saved = Autoescape;
        try
        {
            var current = t;
            while (true)
            {
                Autoescape = current.Autoescape;
                ctx.Template = current;
                ExecRoot(current.Body, root, ctx, sb);
                if (ctx.Parent == null) break;
                current = ctx.Parent;
                ctx.Parent = null;
                ctx.AddBlocks(current);
            }
        }
        finally { Autoescape = saved; }
    }

    void ExecRoot(List<Node> body, Scope scope, RenderContext ctx, StringBuilder sb)
    {
        var sink = sb;
        foreach (var n in body)
        {
            // After {% extends %} the child only defines: its output and blocks are the parent's job.
            if (ctx.Parent != null && n is OutputNode or PrintNode or BlockNode) continue;
            ExecNode(n, scope, ctx, sink);
            if (ctx.Parent != null && ReferenceEquals(sink, sb)) sink = new StringBuilder();
        }
    }

    PyObject SelfObject(RenderContext ctx)
    {
        var self = new SelfBlocks(ctx, this) { TypeName = "TemplateReference" };
        return self;
    }

    sealed class SelfBlocks : PyObject
    {
        public SelfBlocks(RenderContext ctx, Renderer r)
        {
            foreach (var name in ctx.Template.Blocks.Keys) Add(ctx, name);
            _ctx = ctx;
        }
        readonly RenderContext _ctx;
        void Add(RenderContext ctx, string name) =>
            Attrs[name] = new BuiltinCallable(name, (r, _) =>
            {
                var sb = new StringBuilder();
                r.RenderBlock(ctx, name, 0, ctx.Root, sb);
                return r.Wrap(sb.ToString());
            });
        public object? Lookup(string name)
        {
            if (!Attrs.ContainsKey(name) && _ctx.Blocks.ContainsKey(name)) Add(_ctx, name);
            return Attrs.TryGetValue(name, out var v) ? v : new Undefined($"no block named '{name}'");
        }
    }

    void RenderBlock(RenderContext ctx, string name, int index, Scope scope, StringBuilder sb, bool scoped = false)
    {
        var list = ctx.Blocks[name];
        var block = list[index];
        if (block.Required && index == list.Count - 1 && list.Count == 1)
            throw new TemplateException($"required block '{name}' not found", block.Owner.Name, block.Line);
        var s = new Scope(scoped || block.Scoped ? scope : ctx.Root);
        s.Vars["super"] = new BuiltinCallable("super", (r, _) =>
        {
            if (index + 1 >= list.Count) throw new TemplateException($"there is no parent block called '{name}'");
            var inner = new StringBuilder();
            r.RenderBlock(ctx, name, index + 1, scope, inner, scoped);
            return r.Wrap(inner.ToString());
        });
        bool saved = Autoescape;
        var savedTemplate = ctx.Template;
        Autoescape = block.Owner.Autoescape;
        ctx.Template = block.Owner;
        try { Exec(block.Body, s, ctx, sb); }
        finally { Autoescape = saved; ctx.Template = savedTemplate; }
    }

    // ---------------------------------------------------------------- statements

    public void Exec(List<Node> nodes, Scope scope, RenderContext ctx, StringBuilder sb)
    {
        foreach (var n in nodes) ExecNode(n, scope, ctx, sb);
    }

    void ExecNode(Node n, Scope scope, RenderContext ctx, StringBuilder sb)
    {
        Step();
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        try
        {
            ExecNodeInner(n, scope, ctx, sb);
        }
        catch (TemplateException e) when (e.Template == null)
        {
            e.Template = ctx.Template.Name;
            e.Line = n.Line;
            throw;
        }
        catch (Exception e) when (e is OverflowException or DivideByZeroException or InvalidCastException or ArgumentException or FormatException or IndexOutOfRangeException)
        {
            throw new TemplateException(e is DivideByZeroException ? "division by zero" : e.Message, ctx.Template.Name, n.Line);
        }
    }

    void ExecNodeInner(Node n, Scope scope, RenderContext ctx, StringBuilder sb)
    {
        switch (n)
        {
            case OutputNode o:
                Write(sb, o.Text);
                break;
            case PrintNode p:
                WriteValue(sb, Eval(p.Expr, scope, ctx));
                break;
            case IfNode i:
                foreach (var (test, body) in i.Branches)
                    if (Py.Truthy(Eval(test, scope, ctx))) { Exec(body, scope, ctx, sb); return; }
                if (i.Else != null) Exec(i.Else, scope, ctx, sb);
                break;
            case ForNode f:
                ExecFor(f, Eval(f.Iter, scope, ctx), scope, ctx, sb, 0);
                break;
            case SetNode s:
                Assign(s.Target, Eval(s.Value, scope, ctx), scope, ctx);
                break;
            case SetBlockNode sb2:
                Assign(sb2.Target, RenderFiltered(sb2.Body, sb2.Filters, scope, ctx), scope, ctx);
                break;
            case MacroNode m:
                scope.Vars[m.Name] = new Macro(m.Name, m.Params, m.Body, scope, ctx, Autoescape);
                break;
            case CallBlockNode c:
            {
                var caller = new Macro("caller", c.Params, c.Body, scope, ctx, Autoescape);
                var callee = Eval(c.Call.Callee, scope, ctx);
                var args = EvalArgs(c.Call.Args, scope, ctx);
                args.Named.Add(new("caller", caller));
                WriteValue(sb, CallValue(callee, args));
                break;
            }
            case FilterBlockNode fb:
                WriteValue(sb, RenderFiltered(fb.Body, fb.Filters, scope, ctx));
                break;
            case BlockNode b:
                RenderBlock(ctx, b.Name, 0, scope, sb, b.Scoped);
                break;
            case ExtendsNode e:
            {
                if (ctx.Parent != null) throw new TemplateException("extended multiple times");
                ctx.Parent = LoadTemplate(Eval(e.Template, scope, ctx));
                break;
            }
            case IncludeNode inc:
            {
                var t = LoadTemplate(Eval(inc.Template, scope, ctx), inc.IgnoreMissing);
                if (t == null) break;
                Enter($"include '{t.Name}'");
                try
                {
                    var root = new Scope(null);
                    if (inc.WithContext)
                        foreach (var kv in scope.Flatten())
                            if (kv.Key is not ("loop" or "self" or "super")) root.Vars[kv.Key] = kv.Value;
                    RenderInto(t, root, sb);
                }
                finally { Leave(); }
                break;
            }
            case ImportNode im:
                scope.Vars[im.Alias] = ImportModule(Eval(im.Template, scope, ctx), im.WithContext ? scope : null);
                break;
            case FromImportNode fi:
            {
                var module = ImportModule(Eval(fi.Template, scope, ctx), fi.WithContext ? scope : null);
                foreach (var (name, alias) in fi.Names)
                    scope.Vars[alias] = module.Attrs.TryGetValue(name, out var v)
                        ? v
                        : throw new TemplateException($"the template '{module.TypeName}' does not export the requested name '{name}'");
                break;
            }
            case WithNode w:
            {
                var inner = new Scope(scope);
                foreach (var (target, value) in w.Assignments) Assign(target, Eval(value, scope, ctx), inner, ctx);
                Exec(w.Body, inner, ctx, sb);
                break;
            }
            case AutoescapeNode a:
            {
                bool saved = Autoescape;
                Autoescape = Py.Truthy(Eval(a.Enabled, scope, ctx));
                try { Exec(a.Body, new Scope(scope), ctx, sb); }
                finally { Autoescape = saved; }
                break;
            }
            default:
                throw new TemplateException($"unsupported node {n.GetType().Name}");
        }
    }

    PyObject ImportModule(object? name, Scope? context)
    {
        var t = LoadTemplate(name)!;
        Enter($"import '{t.Name}'");
        try
        {
            var root = new Scope(null);
            if (context != null) foreach (var kv in context.Flatten()) root.Vars[kv.Key] = kv.Value;
            var before = new HashSet<string>(root.Vars.Keys);
            RenderInto(t, root, new StringBuilder());
            var module = new PyObject { TypeName = t.Name };
            foreach (var kv in root.Vars)
                if (!before.Contains(kv.Key) && kv.Key != "self" && !kv.Key.StartsWith('_')) module.Attrs[kv.Key] = kv.Value;
            return module;
        }
        finally { Leave(); }
    }

    Template? LoadTemplate(object? name, bool ignoreMissing = false)
    {
        if (name is Undefined u) throw u.Error();
        var names = name switch
        {
            List<object?> l => l,
            PyTuple t => [.. t.Items],
            _ => [name],
        };
        TemplateException? last = null;
        foreach (var n in names)
        {
            if (n is Template t) return t;
            var s = Py.AsString(n) ?? throw new TemplateException($"template name must be a string, got {Py.TypeName(n)}");
            try { return _loader.Load(s); }
            catch (TemplateNotFoundException e) { last = e; }
        }
        if (ignoreMissing) return null;
        throw last ?? new TemplateNotFoundException("no template name given");
    }

    void ExecFor(ForNode f, object? iterable, Scope scope, RenderContext ctx, StringBuilder sb, int depth)
    {
        var items = Iterate(iterable);
        if (f.Filter != null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                Step();
                var s = new Scope(scope);
                Assign(f.Target, item, s, ctx);
                if (Py.Truthy(Eval(f.Filter, s, ctx))) kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            if (f.Else != null) Exec(f.Else, new Scope(scope), ctx, sb);
            return;
        }
        var loop = new LoopContext
        {
            Items = items,
            Depth0 = depth,
            Recurse = (r, it) =>
            {
                if (!f.Recursive) throw new TemplateException("the loop is not recursive ('for ... recursive')");
                r.Enter("recursive loop");
                try
                {
                    var inner = new StringBuilder();
                    r.ExecFor(f, it, scope, ctx, inner, depth + 1);
                    return r.Wrap(inner.ToString());
                }
                finally { r.Leave(); }
            },
        };
        for (int i = 0; i < items.Count; i++)
        {
            Step();
            loop.Index0 = i;
            var s = new Scope(scope);
            Assign(f.Target, items[i], s, ctx);
            s.Vars["loop"] = loop;
            Exec(f.Body, s, ctx, sb);
        }
    }

    void Assign(Expr target, object? value, Scope scope, RenderContext ctx)
    {
        switch (target)
        {
            case NameExpr n:
                scope.Vars[n.Name] = value;
                break;
            case TupleExpr t:
            {
                var items = Iterate(value);
                if (items.Count != t.Items.Count)
                    throw new TemplateException(items.Count > t.Items.Count
                        ? $"too many values to unpack (expected {t.Items.Count})"
                        : $"not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                for (int i = 0; i < items.Count; i++) Assign(t.Items[i], items[i], scope, ctx);
                break;
            }
            case GetAttrExpr a:
            {
                var obj = Eval(a.Obj, scope, ctx);
                if (obj is PyObject { Mutable: true } ns) ns.Attrs[a.Name] = value;
                else throw new TemplateException("can only assign attributes of a namespace() object");
                break;
            }
            default:
                throw new TemplateException("cannot assign to this expression");
        }
    }

    // ---------------------------------------------------------------- iteration

    public List<object?> Iterate(object? v) => v switch
    {
        List<object?> l => [.. l],
        PyTuple t => [.. t.Items],
        OrderedDictionary<string, object?> d => [.. d.Keys],
        string s => Py.Chars(s),
        Markup m => Py.Chars(m.Value),
        Undefined => [],
        PyObject { TypeName: "Namespace" } o => [.. o.Attrs.Keys],
        _ => throw new TemplateException($"'{Py.TypeName(v)}' object is not iterable"),
    };
}

public class TemplateNotFoundException(string message) : TemplateException(message) { }
