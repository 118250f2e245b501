using System.Text.RegularExpressions;
using Assay.Runtime.Discovery;

namespace Assay.Cli;

/// <summary>
/// "Did you mean" lines for the errors newcomers meet first: a builtin function that does not
/// exist (`json.decode`), a module that is not found, a command that is misspelt. Worked out from
/// the error text after the fact, so nothing is paid while a script runs.
/// </summary>
public static partial class ErrorHints
{
    [GeneratedRegex(@":(\d+): attempt to call a nil value \((?:field|method) '([A-Za-z_]\w*)'\)")]
    private static partial Regex MissingFunction();

    [GeneratedRegex(@"module '([\w.]+)' not found")]
    private static partial Regex MissingModule();

    /// <summary>Names people bring from other languages, mapped to ours.</summary>
    static readonly Dictionary<string, string> Synonyms = new(StringComparer.Ordinal)
    {
        ["decode"] = "parse", ["loads"] = "parse", ["load"] = "parse", ["from_json"] = "parse",
        ["dumps"] = "encode", ["stringify"] = "encode", ["dump"] = "encode", ["to_json"] = "encode",
        ["readfile"] = "read", ["read_file"] = "read", ["writefile"] = "write", ["write_file"] = "write",
        ["unlink"] = "remove", ["delete"] = "remove", ["rm"] = "remove", ["ls"] = "list",
        ["run"] = "exec", ["system"] = "exec", ["getenv"] = "get", ["setenv"] = "set",
        ["fetch"] = "get", ["render_string"] = "render",
    };

    /// <summary>A hint line for <paramref name="report"/>, or null. <paramref name="source"/> is the script's text.</summary>
    public static string? For(string report, string? source)
    {
        if (MissingFunction().Match(report) is { Success: true } m && source != null)
            return ForMissingFunction(int.Parse(m.Groups[1].Value), m.Groups[2].Value, source);
        if (MissingModule().Match(report) is { Success: true } mm)
            return ForMissingModule(mm.Groups[1].Value);
        return null;
    }

    static string? ForMissingFunction(int line, string field, string source)
    {
        var lines = source.Split('\n');
        if (line < 1 || line > lines.Length) return null;
        var call = Regex.Match(lines[line - 1], @"\b([a-z_]\w*)\s*[.:]\s*" + Regex.Escape(field) + @"\s*[\(""'{]");
        if (!call.Success) return null;
        var module = call.Groups[1].Value;
        var functions = BuiltinDocs.Load().Where(mi => mi.Name == module)
            .SelectMany(mi => mi.Functions)
            .Select(f => Regex.Match(f, @"^" + Regex.Escape(module) + @"[.:]([A-Za-z_]\w*)"))
            .Where(x => x.Success).Select(x => x.Groups[1].Value).Distinct().ToList();
        if (functions.Count == 0) return null;
        var best = Closest(field, functions);
        return best == null
            ? $"hint: {module} has no function '{field}'; `assay context {module}` lists what it has"
            : $"hint: {module} has no function '{field}'; did you mean {module}.{best}?";
    }

    static string? ForMissingModule(string name)
    {
        var known = ModuleCatalog.Discover().Where(m => m.Name.StartsWith("assay.", StringComparison.Ordinal)).Select(m => m.Name).ToList();
        if (!name.StartsWith("assay.", StringComparison.Ordinal) && known.Contains("assay." + name))
            return $"hint: did you mean require(\"assay.{name}\")?";
        var best = Closest(name, known);
        return best != null ? $"hint: did you mean require(\"{best}\")? (`assay modules` lists every module)" : null;
    }

    /// <summary>The closest candidate by a synonym or by edit distance (at most a third of the name, at least 2).</summary>
    public static string? Closest(string word, IEnumerable<string> candidates)
    {
        var list = candidates.ToList();
        if (Synonyms.TryGetValue(word.ToLowerInvariant(), out var synonym) && list.Contains(synonym)) return synonym;
        int limit = Math.Max(2, word.Length / 3);
        return list.Select(c => (Name: c, Distance: Distance(word.ToLowerInvariant(), c.ToLowerInvariant())))
            .Where(x => x.Distance <= limit && x.Name != word)
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal)
            .Select(x => x.Name).FirstOrDefault();
    }

    /// <summary>Optimal string alignment distance: edits, with a swap of neighbours counting as one.</summary>
    static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
        {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
        }
        return d[a.Length, b.Length];
    }
}
