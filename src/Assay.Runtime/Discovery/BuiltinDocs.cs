using System.Text.RegularExpressions;

namespace Assay.Runtime.Discovery;

/// <summary>
/// Builtin modules are described by their reference pages (docs/modules/*.md, embedded in the
/// binary), so `assay context` says exactly what the docs say — and a test keeps the docs in step
/// with what the runtime registers. A page is one module (core.md holds several, one per `##`
/// section). Functions are the `name.fn(...)` signatures written in code spans in the first cell
/// of a table row, in a heading, or opening a paragraph; the description is a `&lt;!-- description: … --&gt;` line or the
/// first sentence of prose; `&lt;!-- keywords: … --&gt;` adds keywords.
/// </summary>
public static partial class BuiltinDocs
{
    [GeneratedRegex(@"`([a-z_]\w*(?:[.:][A-Za-z_]\w*)*\s*(?:\([^`]*\)|\{[^`]*\}))`")]
    private static partial Regex Signature();

    [GeneratedRegex(@"<!--\s*keywords:\s*(.*?)\s*-->")]
    private static partial Regex KeywordsComment();

    [GeneratedRegex(@"<!--\s*description:\s*(.*?)\s*-->")]
    private static partial Regex DescriptionComment();

    public static IReadOnlyList<ModuleInfo> Load()
    {
        var assembly = typeof(BuiltinDocs).Assembly;
        var result = new List<ModuleInfo>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("docs/modules/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            result.AddRange(Parse(reader.ReadToEnd(), splitSections: resource.EndsWith("/core.md", StringComparison.Ordinal)));
        }
        return result;
    }

    /// <param name="splitSections">True for pages that document several modules, one per `##` section.</param>
    public static IEnumerable<ModuleInfo> Parse(string markdown, bool splitSections = false)
    {
        string? name = null;
        string description = "";
        var functions = new List<string>();
        var keywords = new List<string>();
        bool inCode = false;
        foreach (var raw in markdown.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode; continue; }
            if (inCode) continue;
            int level = line.TakeWhile(c => c == '#').Count();
            if (level > 0 && (level == 1 || (splitSections && level == 2)))
            {
                foreach (var done in Flush()) yield return done;
                name = line.TrimStart('#').Trim().Trim('`');
                description = "";
                functions = [];
                keywords = [];
                continue;
            }
            if (DescriptionComment().Match(line) is { Success: true } d) { description = d.Groups[1].Value; continue; }
            if (KeywordsComment().Match(line) is { Success: true } k)
            {
                keywords.AddRange(k.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                continue;
            }
            // a paragraph that opens with a signature defines that function (`f(x)` → …)
            bool definition = line.StartsWith('`') && Signature().Match(line) is { Success: true, Index: 0 };
            if (level > 0 || line.StartsWith('|') || definition)
            {
                var cells = line.Split('|', StringSplitOptions.TrimEntries);
                var signatureCell = level > 0 ? line : definition ? Signature().Match(line).Value : cells.Length > 1 ? cells[1] : "";
                var what = level == 0 && !definition && cells.Length > 2 ? cells[2] : "";
                foreach (Match m in Signature().Matches(signatureCell))
                {
                    var entry = m.Groups[1].Value + (what.Length > 0 ? " — " + what : "");
                    if (!functions.Any(f => f.StartsWith(m.Groups[1].Value, StringComparison.Ordinal))) functions.Add(entry);
                }
                continue;
            }
            if (description.Length == 0 && functions.Count == 0 && line.Length > 0 && !line.StartsWith('-') && !line.StartsWith('<'))
                description = FirstSentence(line);
        }
        foreach (var last in Flush()) yield return last;

        // In a page of several modules, a capitalised section ("Modules", "Scripts") is prose about
        // them, not a module of its own. A section that names several globals ("sleep, time") is
        // one row per global, each with its own functions.
        IEnumerable<ModuleInfo> Flush()
        {
            if (name == null || functions.Count == 0 || (splitSections && char.IsUpper(name[0]))) return [];
            var names = name.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (names.Length == 1) return [new ModuleInfo(name, ModuleSource.Builtin, description, keywords, [], functions, [])];
            return names.Select(n => new ModuleInfo(n, ModuleSource.Builtin, description, keywords, [],
                functions.Where(f => f.StartsWith(n + "(", StringComparison.Ordinal) || f.StartsWith(n + ".", StringComparison.Ordinal)).ToList(), []));
        }
    }

    static string FirstSentence(string line)
    {
        int end = line.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? line[..(end + 1)] : line;
    }
}
