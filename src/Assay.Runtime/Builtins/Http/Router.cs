namespace Assay.Runtime.Builtins.Http;

/// <summary>A route lookup result: the handler slot, path parameters and the wildcard tail.</summary>
internal readonly record struct RouteMatch(int Handler, string Pattern, List<KeyValuePair<string, string>>? Params, string? Tail);

/// <summary>
/// The route table of one server: method → path pattern → handler slot. Patterns are exact
/// (<c>/health</c>), with parameters (<c>/users/:id</c>) or with a trailing wildcard
/// (<c>/api/*</c>, which matches <c>/api/x</c> and <c>/api/x/y</c> but not <c>/api</c>).
/// Precedence: exact, then parameter patterns (more literal segments first), then wildcards
/// (longest prefix first). Immutable once built; matched on Kestrel threads.
/// </summary>
internal sealed class Router
{
    sealed record Pattern(string Text, string[] Segments, bool Wildcard, int Handler)
    {
        public int Literals => Segments.Count(s => !s.StartsWith(':'));
    }

    readonly Dictionary<string, Dictionary<string, int>> _exact = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<Pattern>> _patterns = new(StringComparer.Ordinal);
    bool _sorted;

    public IEnumerable<string> Methods => _exact.Keys.Union(_patterns.Keys);

    /// <summary>Adds a route; returns an error message for a malformed pattern.</summary>
    public string? Add(string method, string path, int handler)
    {
        if (path.Length == 0 || path[0] != '/') return $"route path '{path}' must start with '/'";
        bool wildcard = path == "/*" || path.EndsWith("/*", StringComparison.Ordinal);
        var body = wildcard ? path[..^2] : path;
        var segments = body.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Any(s => s.Contains('*'))) return $"route path '{path}': '*' is only allowed as the last segment";
        if (segments.Any(s => s == ":")) return $"route path '{path}': a parameter needs a name";
        if (!wildcard && !segments.Any(s => s.StartsWith(':')))
        {
            if (!_exact.TryGetValue(method, out var map)) _exact[method] = map = new(StringComparer.Ordinal);
            map[path] = handler;
            return null;
        }
        if (!_patterns.TryGetValue(method, out var list)) _patterns[method] = list = [];
        list.Add(new Pattern(path, segments, wildcard, handler));
        _sorted = false;
        return null;
    }

    public void Seal()
    {
        if (_sorted) return;
        foreach (var list in _patterns.Values)
            list.Sort((a, b) => a.Wildcard != b.Wildcard ? (a.Wildcard ? 1 : -1)
                : a.Wildcard ? b.Segments.Length.CompareTo(a.Segments.Length) != 0 ? b.Segments.Length.CompareTo(a.Segments.Length) : b.Literals.CompareTo(a.Literals)
                : b.Literals.CompareTo(a.Literals));
        _sorted = true;
    }

    public RouteMatch? Match(string method, string path)
    {
        if (_exact.TryGetValue(method, out var map) && map.TryGetValue(path, out int h)) return new RouteMatch(h, path, null, null);
        if (!_patterns.TryGetValue(method, out var list)) return null;
        string[]? segs = null;
        foreach (var p in list)
        {
            segs ??= path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (p.Wildcard ? segs.Length <= p.Segments.Length : segs.Length != p.Segments.Length) continue;
            List<KeyValuePair<string, string>>? ps = null;
            bool ok = true;
            for (int i = 0; i < p.Segments.Length && ok; i++)
            {
                var s = p.Segments[i];
                if (s[0] == ':') (ps ??= []).Add(new(s[1..], segs[i]));
                else ok = s == segs[i];
            }
            if (!ok) continue;
            string? tail = p.Wildcard ? string.Join('/', segs, p.Segments.Length, segs.Length - p.Segments.Length) : null;
            return new RouteMatch(p.Handler, p.Text, ps, tail);
        }
        return null;
    }

    /// <summary>The methods whose routes match <paramref name="path"/> (for 405's Allow header).</summary>
    public List<string> AllowedFor(string path)
    {
        var allowed = new List<string>();
        foreach (var m in Methods.OrderBy(m => m, StringComparer.Ordinal))
            if (Match(m, path) != null) allowed.Add(m);
        if (allowed.Contains("GET") && !allowed.Contains("HEAD")) allowed.Add("HEAD");
        return allowed;
    }
}
