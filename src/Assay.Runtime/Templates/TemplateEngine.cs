namespace Assay.Runtime.Templates;

/// <summary>
/// Loads templates by name from one folder (Jinja's FileSystemLoader): names use '/', and any
/// name that leaves the folder ("..", absolute paths, symlinks — of the file or of any directory
/// on the way — pointing outside) is not found. Resolution is <see cref="ConfinedPath"/>'s.
/// </summary>
public sealed class TemplateLoader(string? root)
{
    readonly string? _root = root == null ? null : ConfinedPath.RealPath(Path.GetFullPath(root));
    readonly bool _hasRoot = root != null;
    readonly Dictionary<string, Template> _cache = new(StringComparer.Ordinal);

    /// <summary>Jinja's select_autoescape(): on for .html, .htm and .xml templates.</summary>
    public static bool AutoescapeFor(string name)
    {
        var ext = Path.GetExtension(name).ToLowerInvariant();
        return ext is ".html" or ".htm" or ".xml";
    }

    public Template Load(string name)
    {
        if (_cache.TryGetValue(name, out var t)) return t;
        if (!_hasRoot)
            throw new TemplateNotFoundException($"template '{name}' not found: render_string has no template folder (use template.render(path) for include/extends/import)");
        if (name.Split('/').All(p => p is "" or ".")) throw new TemplateNotFoundException($"template '{name}' not found");
        string? full = null;
        var status = _root == null ? ConfinedStatus.Missing : ConfinedPath.Resolve(_root, name, allowDotfiles: true, out full);
        if (status == ConfinedStatus.Outside)
            throw new TemplateNotFoundException($"template '{name}' not found (it lies outside the template folder)");
        if (status != ConfinedStatus.Found || !File.Exists(full))
            throw new TemplateNotFoundException($"template '{name}' not found");
        string source;
        try { source = File.ReadAllText(full!); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TemplateNotFoundException($"template '{name}' could not be read: {e.Message}");
        }
        t = TemplateParser.Parse(source, name, AutoescapeFor(name));
        _cache[name] = t;
        return t;
    }
}

/// <summary>Entry points: render a template string or a template file with .NET values.</summary>
public static class TemplateEngine
{
    /// <summary>Renders <paramref name="source"/>; autoescape is off (as Jinja's from_string).</summary>
    public static string RenderString(string source, object? vars, TemplateLimits? limits = null, string? folder = null, CancellationToken cancel = default)
    {
        return Guard("<string>", () =>
        {
            var loader = new TemplateLoader(folder);
            var t = TemplateParser.Parse(source, "<string>", false);
            return Render(t, loader, vars, limits, cancel);
        });
    }

    /// <summary>Renders the file at <paramref name="path"/>; include/extends/import resolve in its folder.</summary>
    public static string RenderFile(string path, object? vars, TemplateLimits? limits = null, CancellationToken cancel = default)
    {
        // The path the caller names is trusted (a link to a template elsewhere is fine); what it
        // includes stays inside the folder the file really lives in.
        var full = ConfinedPath.RealPath(Path.GetFullPath(path));
        if (full == null || !File.Exists(full)) throw new TemplateNotFoundException($"template '{path}' not found");
        var dir = Path.GetDirectoryName(full)!;
        return Guard(Path.GetFileName(full), () =>
        {
            var loader = new TemplateLoader(dir);
            var t = loader.Load(Path.GetFileName(full));
            return Render(t, loader, vars, limits, cancel);
        });
    }

    static string Render(Template t, TemplateLoader loader, object? vars, TemplateLimits? limits, CancellationToken cancel)
    {
        var root = new Scope(null);
        switch (vars)
        {
            case null:
            case List<object?> { Count: 0 }:
                break;
            case OrderedDictionary<string, object?> d:
                foreach (var kv in d) root.Vars[kv.Key] = kv.Value;
                break;
            default:
                throw new TemplateException($"variables must be a table with string keys, got {Py.TypeName(vars)}");
        }
        return new Renderer(loader, limits, cancel).RenderTemplate(t, root);
    }

    static string Guard(string name, Func<string> render)
    {
        try
        {
            return render();
        }
        catch (InsufficientExecutionStackException)
        {
            throw new TemplateException("template or data nested too deeply", name);
        }
    }
}
