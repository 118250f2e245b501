namespace Assay.Runtime.Templates;

/// <summary>
/// Loads templates by name from one folder (Jinja's FileSystemLoader): names use '/', and any
/// name that leaves the folder ("..", absolute paths, symlinks pointing outside) is not found.
/// </summary>
public sealed class TemplateLoader(string? root)
{
    readonly string? _root = root == null ? null : Path.GetFullPath(root);
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
        if (_root == null)
            throw new TemplateNotFoundException($"template '{name}' not found: render_string has no template folder (use template.render(path) for include/extends/import)");
        var parts = new List<string>();
        foreach (var piece in name.Split('/'))
        {
            if (piece.Contains(Path.DirectorySeparatorChar) || piece.Contains('\\') || piece == "..")
                throw new TemplateNotFoundException($"template '{name}' not found (paths may not leave the template folder)");
            if (piece.Length > 0 && piece != ".") parts.Add(piece);
        }
        if (parts.Count == 0) throw new TemplateNotFoundException($"template '{name}' not found");
        var full = Path.GetFullPath(Path.Combine([_root, .. parts]));
        var rootPrefix = _root.EndsWith(Path.DirectorySeparatorChar) ? _root : _root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(rootPrefix, StringComparison.Ordinal) || !File.Exists(full))
            throw new TemplateNotFoundException($"template '{name}' not found");
        var real = new FileInfo(full).ResolveLinkTarget(true)?.FullName ?? full;
        if (!real.StartsWith(rootPrefix, StringComparison.Ordinal) && real != full)
        {
            var realRoot = new DirectoryInfo(_root).ResolveLinkTarget(true)?.FullName;
            if (realRoot == null || !real.StartsWith(realRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new TemplateNotFoundException($"template '{name}' not found (it links outside the template folder)");
        }
        string source;
        try { source = File.ReadAllText(full); }
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
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!File.Exists(full)) throw new TemplateNotFoundException($"template '{path}' not found");
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
