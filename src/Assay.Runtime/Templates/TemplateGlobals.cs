namespace Assay.Runtime.Templates;

/// <summary>Jinja2's global functions: range, dict, namespace, cycler, joiner.</summary>
public static class TemplateGlobals
{
    /// <summary>The global named <paramref name="name"/>, or null when there is none.</summary>
    public static object? Get(string name) => name switch
    {
        "range" => new BuiltinCallable("range", (r, a) => Range(r, a)),
        "dict" => new BuiltinCallable("dict", (_, a) =>
        {
            var d = new OrderedDictionary<string, object?>();
            if (a.Positional.Count > 0 && a.Positional[0] is OrderedDictionary<string, object?> src)
                foreach (var kv in src) d[kv.Key] = kv.Value;
            foreach (var kv in a.Named) d[kv.Key] = kv.Value;
            return d;
        }),
        "namespace" => new BuiltinCallable("namespace", (_, a) =>
        {
            var ns = new PyObject { TypeName = "Namespace", Mutable = true };
            if (a.Positional.Count > 0 && a.Positional[0] is OrderedDictionary<string, object?> src)
                foreach (var kv in src) ns.Attrs[kv.Key] = kv.Value;
            foreach (var kv in a.Named) ns.Attrs[kv.Key] = kv.Value;
            return ns;
        }),
        "cycler" => new BuiltinCallable("cycler", (_, a) => Cycler(a.Positional)),
        "joiner" => new BuiltinCallable("joiner", (_, a) =>
        {
            var sep = a.Get(0, "sep", ", ");
            bool used = false;
            return new BuiltinCallable("joiner", (_, _) => { if (!used) { used = true; return ""; } return sep; });
        }),
        _ => null,
    };

    static object Range(Renderer r, CallArgs a)
    {
        var p = a.Positional;
        if (p.Count == 0) throw new TemplateException("range expected at least 1 argument, got 0");
        long start = 0, stop, step = 1;
        if (p.Count == 1) stop = Py.IntArg(p[0], "range argument");
        else { start = Py.IntArg(p[0], "range argument"); stop = Py.IntArg(p[1], "range argument"); if (p.Count > 2) step = Py.IntArg(p[2], "range argument"); }
        if (step == 0) throw new TemplateException("range() arg 3 must not be zero");
        long count = step > 0 ? Math.Max(0, (stop - start + step - 1) / step) : Math.Max(0, (start - stop - step - 1) / -step);
        r.CheckSize(count);
        var list = new List<object?>((int)count);
        for (long i = 0; i < count; i++) list.Add(start + i * step);
        return list;
    }

    static PyObject Cycler(List<object?> items)
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
}
