namespace Assay.Runtime.Templates;

public sealed partial class Renderer
{
    public object? Eval(Expr e, Scope scope, RenderContext ctx)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (e)
        {
            case ConstExpr c: return c.Value;
            case NameExpr n:
                if (scope.TryGet(n.Name, out var v)) return v;
                return TemplateGlobals.Get(n.Name) ?? Undefined.Named(n.Name);
            case ListExpr l:
            {
                var list = new List<object?>(l.Items.Count);
                foreach (var i in l.Items) list.Add(Eval(i, scope, ctx));
                return list;
            }
            case TupleExpr t:
            {
                var items = new object?[t.Items.Count];
                for (int i = 0; i < items.Length; i++) items[i] = Eval(t.Items[i], scope, ctx);
                return new PyTuple(items);
            }
            case DictExpr d:
            {
                var dict = new OrderedDictionary<string, object?>();
                foreach (var (k, val) in d.Items) dict[KeyString(Eval(k, scope, ctx))] = Eval(val, scope, ctx);
                return dict;
            }
            case GetAttrExpr a: return GetAttr(Eval(a.Obj, scope, ctx), a.Name);
            case GetItemExpr g:
            {
                var obj = Eval(g.Obj, scope, ctx);
                if (g.Key is SliceExpr s)
                    return Slice(obj, s.Start == null ? null : Eval(s.Start, scope, ctx), s.Stop == null ? null : Eval(s.Stop, scope, ctx), s.Step == null ? null : Eval(s.Step, scope, ctx));
                return GetItem(obj, Eval(g.Key, scope, ctx));
            }
            case UnaryExpr u:
            {
                var x = Eval(u.Operand, scope, ctx);
                return u.Op switch
                {
                    "not" => !Py.Truthy(x),
                    "-" => x switch
                    {
                        long l => (object)checked(-l),
                        double dd => -dd,
                        bool b => b ? -1L : 0L,
                        Undefined un => throw un.Error(),
                        _ => throw new TemplateException($"bad operand type for unary -: '{Py.TypeName(x)}'"),
                    },
                    _ => x switch
                    {
                        long or double => (object)x,
                        bool b => b ? 1L : 0L,
                        Undefined un => throw un.Error(),
                        _ => throw new TemplateException($"bad operand type for unary +: '{Py.TypeName(x)}'"),
                    },
                };
            }
            case BinaryExpr b:
            {
                if (b.Op == "and") { var l = Eval(b.Left, scope, ctx); return Py.Truthy(l) ? Eval(b.Right, scope, ctx) : l; }
                if (b.Op == "or") { var l = Eval(b.Left, scope, ctx); return Py.Truthy(l) ? l : Eval(b.Right, scope, ctx); }
                return Binary(b.Op, Eval(b.Left, scope, ctx), Eval(b.Right, scope, ctx));
            }
            case CompareExpr c:
            {
                var left = Eval(c.First, scope, ctx);
                foreach (var (op, operand) in c.Rest)
                {
                    var right = Eval(operand, scope, ctx);
                    if (!CompareOp(op, left, right)) return false;
                    left = right;
                }
                return true;
            }
            case CondExpr c:
                if (Py.Truthy(Eval(c.Test, scope, ctx))) return Eval(c.Then, scope, ctx);
                return c.Else == null ? new Undefined("the inline if-expression evaluated to false and no else section was defined") : Eval(c.Else, scope, ctx);
            case ConcatExpr c:
            {
                var parts = c.Parts.Select(p => Eval(p, scope, ctx)).ToList();
                if (Autoescape && parts.Any(p => p is Markup))
                    return new Markup(string.Concat(parts.Select(p => Py.EscapeValue(p).Value)));
                var sb = new StringBuilder();
                foreach (var p in parts) sb.Append(Py.Str(p));
                return sb.ToString();
            }
            case CallExpr call:
            {
                var callee = Eval(call.Callee, scope, ctx);
                return CallValue(callee, EvalArgs(call.Args, scope, ctx), call.Callee);
            }
            case FilterExpr f:
                return ApplyFilter(f, f.Operand == null ? null : Eval(f.Operand, scope, ctx), scope, ctx);
            case TestExpr t:
            {
                var x = Eval(t.Operand, scope, ctx);
                bool r = JinjaTests.Test(this, t.Name, x, EvalArgs(t.Args, scope, ctx));
                return t.Negated ? !r : r;
            }
            default:
                throw new TemplateException($"cannot evaluate {e.GetType().Name}");
        }
    }

    public object? ApplyFilter(FilterExpr f, object? value, Scope scope, RenderContext ctx) =>
        TemplateFilters.Filter(this, f.Name, value, EvalArgs(f.Args, scope, ctx));

    public CallArgs EvalArgs(ArgList a, Scope scope, RenderContext ctx)
    {
        var args = new CallArgs();
        foreach (var p in a.Positional) args.Positional.Add(Eval(p, scope, ctx));
        if (a.Star != null) args.Positional.AddRange(Iterate(Eval(a.Star, scope, ctx)));
        foreach (var (n, v) in a.Named) args.Named.Add(new(n, Eval(v, scope, ctx)));
        if (a.StarStar != null)
        {
            if (Eval(a.StarStar, scope, ctx) is OrderedDictionary<string, object?> d)
                foreach (var kv in d) args.Named.Add(kv);
            else throw new TemplateException("argument after ** must be a mapping");
        }
        return args;
    }

    public object? CallValue(object? callee, CallArgs args, Expr? what = null)
    {
        switch (callee)
        {
            case PyCallable c:
                return c.Call(this, args);
            case Undefined u:
                throw u.Error();
            default:
                throw new TemplateException($"'{Py.TypeName(callee)}' object is not callable");
        }
    }

    static string KeyString(object? k) => k switch
    {
        string s => s,
        Markup m => m.Value,
        _ => Py.Str(k),
    };

    // ---------------------------------------------------------------- attribute and item access

    public object? GetAttr(object? obj, string name)
    {
        switch (obj)
        {
            case Undefined u: throw u.Error();
            case OrderedDictionary<string, object?> d:
            {
                var m = PyMethods.DictMethod(d, name);
                if (m != null) return m;
                return d.TryGetValue(name, out var v) ? v : new Undefined($"'dict object' has no attribute '{name}'");
            }
            case string or Markup:
                return PyMethods.StrMethod(obj, name) ?? new Undefined($"'str object' has no attribute '{name}'");
            case LoopContext l: return l.Attr(name);
            case PyTuple t when t.Names != null:
            {
                int i = Array.IndexOf(t.Names, name);
                if (i >= 0) return t.Items[i];
                break;
            }
            case SelfBlocks s: return s.Lookup(name);
            case PyObject o:
                return o.Attrs.TryGetValue(name, out var v2) ? v2 : new Undefined($"'{o.TypeName}' object has no attribute '{name}'");
            case List<object?> list:
                var lm = PyMethods.ListMethod(list, name);
                if (lm != null) return lm;
                break;
        }
        return new Undefined($"'{Py.TypeName(obj)} object' has no attribute '{name}'");
    }

    public object? GetItem(object? obj, object? key)
    {
        switch (obj)
        {
            case Undefined u: throw u.Error();
            case OrderedDictionary<string, object?> d:
                if (key is string or Markup or long or bool or double && d.TryGetValue(KeyString(key), out var v)) return v;
                if (key is string ks) { var m = PyMethods.DictMethod(d, ks); if (m != null) return m; }
                return new Undefined($"'dict object' has no attribute '{Py.Str(key)}'");
            case List<object?> or PyTuple or string or Markup:
            {
                if (key is string or Markup) return GetAttr(obj, Py.AsString(key)!);
                if (!(key is long || key is bool)) return new Undefined($"'{Py.TypeName(obj)} object' has no attribute '{Py.Str(key)}'");
                long i = Py.ToLong(key);
                if (obj is string or Markup)
                {
                    var chars = Py.Chars(Py.AsString(obj)!);
                    if (i < 0) i += chars.Count;
                    return i >= 0 && i < chars.Count ? chars[(int)i] : new Undefined("string index out of range");
                }
                var items = obj is PyTuple t ? (IReadOnlyList<object?>)t.Items : (List<object?>)obj;
                if (i < 0) i += items.Count;
                return i >= 0 && i < items.Count ? items[(int)i] : new Undefined($"{Py.TypeName(obj)} index out of range");
            }
            case PyObject or LoopContext when key is string s:
                return GetAttr(obj, s);
        }
        return new Undefined($"'{Py.TypeName(obj)} object' has no attribute '{Py.Str(key)}'");
    }

    object? Slice(object? obj, object? start, object? stop, object? step)
    {
        if (obj is Undefined u) throw u.Error();
        List<object?> items = obj switch
        {
            List<object?> l => l,
            PyTuple t => [.. t.Items],
            string or Markup => Py.Chars(Py.AsString(obj)!),
            _ => throw new TemplateException($"'{Py.TypeName(obj)}' object is not subscriptable"),
        };
        var picked = SliceList(items, start, stop, step);
        return obj switch
        {
            string => string.Concat(picked.Select(x => (string)x!)),
            Markup => new Markup(string.Concat(picked.Select(x => (string)x!))),
            PyTuple => new PyTuple([.. picked]),
            _ => picked,
        };
    }

    public static List<object?> SliceList(List<object?> items, object? start, object? stop, object? step)
    {
        int n = items.Count;
        long st = Py.IsNone(step) ? 1 : Py.ToLong(step);
        if (st == 0) throw new TemplateException("slice step cannot be zero");
        long Norm(object? x, long dflt)
        {
            if (Py.IsNone(x)) return dflt;
            long v = Py.ToLong(x);
            if (v < 0) v += n;
            if (st > 0) return Math.Clamp(v, 0, n);
            return Math.Clamp(v, -1, n - 1);
        }
        long a = Norm(start, st > 0 ? 0 : n - 1);
        long b = Norm(stop, st > 0 ? n : -1);
        var result = new List<object?>();
        if (st > 0) for (long i = a; i < b; i += st) result.Add(items[(int)i]);
        else for (long i = a; i > b; i += st) result.Add(items[(int)i]);
        return result;
    }

    // ---------------------------------------------------------------- operators

    public object? Binary(string op, object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Error();
        if (b is Undefined ub) throw ub.Error();
        switch (op)
        {
            case "+":
                if (Py.IsNumber(a) && Py.IsNumber(b))
                    return a is double || b is double ? (object)(Py.ToDouble(a) + Py.ToDouble(b)) : checked(Py.ToLong(a) + Py.ToLong(b));
                if (Py.IsString(a) && Py.IsString(b))
                {
                    if (a is Markup || b is Markup) return new Markup(Py.EscapeValue(a).Value + Py.EscapeValue(b).Value);
                    return Py.AsString(a) + Py.AsString(b);
                }
                if (a is List<object?> la && b is List<object?> lb) return (List<object?>)[.. la, .. lb];
                if (a is PyTuple ta && b is PyTuple tb) return new PyTuple([.. ta.Items, .. tb.Items]);
                break;
            case "-":
                if (Py.IsNumber(a) && Py.IsNumber(b))
                    return a is double || b is double ? (object)(Py.ToDouble(a) - Py.ToDouble(b)) : checked(Py.ToLong(a) - Py.ToLong(b));
                break;
            case "*":
                if (Py.IsNumber(a) && Py.IsNumber(b))
                    return a is double || b is double ? (object)(Py.ToDouble(a) * Py.ToDouble(b)) : checked(Py.ToLong(a) * Py.ToLong(b));
                if (Py.IsString(a) && (b is long or bool)) return Repeat(a, Py.ToLong(b));
                if (Py.IsString(b) && (a is long or bool)) return Repeat(b, Py.ToLong(a));
                if (a is List<object?> rl && (b is long or bool))
                {
                    long times = Math.Max(0, Py.ToLong(b));
                    CheckSize(times * rl.Count);
                    var r = new List<object?>();
                    for (long i = 0; i < times; i++) r.AddRange(rl);
                    return r;
                }
                break;
            case "/":
                if (Py.IsNumber(a) && Py.IsNumber(b))
                {
                    double d = Py.ToDouble(b);
                    if (d == 0) throw new TemplateException("division by zero");
                    return Py.ToDouble(a) / d;
                }
                break;
            case "//":
                if (Py.IsNumber(a) && Py.IsNumber(b))
                {
                    if (a is double || b is double)
                    {
                        double d = Py.ToDouble(b);
                        if (d == 0) throw new TemplateException("float floor division by zero");
                        return Math.Floor(Py.ToDouble(a) / d);
                    }
                    long x = Py.ToLong(a), y = Py.ToLong(b);
                    if (y == 0) throw new TemplateException("integer division or modulo by zero");
                    long q = x / y;
                    if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
                    return q;
                }
                break;
            case "%":
                if (Py.IsString(a))
                {
                    var fmt = Py.AsString(a)!;
                    var named = fmt.Contains("%(") ? b as OrderedDictionary<string, object?> : null;
                    var formatted = PercentFormat.Format(fmt, b is PyTuple t ? [.. t.Items] : [b], named);
                    return a is Markup ? new Markup(formatted) : formatted;
                }
                if (Py.IsNumber(a) && Py.IsNumber(b))
                {
                    if (a is double || b is double)
                    {
                        double x = Py.ToDouble(a), y = Py.ToDouble(b);
                        if (y == 0) throw new TemplateException("float modulo");
                        double m = x % y;
                        if (m != 0 && (m < 0) != (y < 0)) m += y;
                        return m;
                    }
                    long xi = Py.ToLong(a), yi = Py.ToLong(b);
                    if (yi == 0) throw new TemplateException("integer division or modulo by zero");
                    long mi = xi % yi;
                    if (mi != 0 && (mi < 0) != (yi < 0)) mi += yi;
                    return mi;
                }
                break;
            case "**":
                if (Py.IsNumber(a) && Py.IsNumber(b))
                {
                    if (a is double || b is double || Py.ToLong(b) < 0) return Math.Pow(Py.ToDouble(a), Py.ToDouble(b));
                    long bas = Py.ToLong(a), exp = Py.ToLong(b), result = 1;
                    while (exp > 0)
                    {
                        if ((exp & 1) != 0) result = checked(result * bas);
                        exp >>= 1;
                        if (exp > 0) bas = checked(bas * bas);
                    }
                    return result;
                }
                break;
        }
        throw new TemplateException($"unsupported operand type(s) for {op}: '{Py.TypeName(a)}' and '{Py.TypeName(b)}'");
    }

    object Repeat(object? s, long times)
    {
        var str = Py.AsString(s)!;
        if (times <= 0) return s is Markup ? new Markup("") : "";
        CheckSize(times * str.Length);
        var r = new StringBuilder();
        for (long i = 0; i < times; i++) r.Append(str);
        return s is Markup ? new Markup(r.ToString()) : r.ToString();
    }

    public bool CompareOp(string op, object? a, object? b) => op switch
    {
        "==" => Py.PyEquals(a, b),
        "!=" => !Py.PyEquals(a, b),
        "<" => Py.Compare(a, b, op) < 0,
        "<=" => Py.Compare(a, b, op) <= 0,
        ">" => Py.Compare(a, b, op) > 0,
        ">=" => Py.Compare(a, b, op) >= 0,
        "in" => Contains(b, a),
        "notin" => !Contains(b, a),
        _ => throw new TemplateException($"unknown operator {op}"),
    };

    public bool Contains(object? container, object? item)
    {
        switch (container)
        {
            case string or Markup:
                if (!Py.IsString(item)) throw new TemplateException($"'in <string>' requires string as left operand, not {Py.TypeName(item)}");
                return Py.AsString(container)!.Contains(Py.AsString(item)!, StringComparison.Ordinal);
            case OrderedDictionary<string, object?> d:
                return Py.IsString(item) && d.ContainsKey(Py.AsString(item)!);
            case Undefined u: throw u.Error();
            default:
                foreach (var x in Iterate(container)) if (Py.PyEquals(x, item)) return true;
                return false;
        }
    }
}
