using System.Reflection;
using System.Text.RegularExpressions;

namespace Assay.Runtime.Discovery;

/// <summary>
/// Builtin modules are described by their reference pages (docs/modules/*.md, embedded in the
/// binary), so `assay context` says exactly what the docs say — and a test keeps the docs in step
/// with what the runtime registers. Each heading whose section has a function table (rows whose
/// first cell is `name(...)`) becomes one module entry; `&lt;!-- keywords: … --&gt;` lines add keywords.
/// </summary>
public static partial class BuiltinDocs
{
    [GeneratedRegex(@"^\|\s*`([A-Za-z_][\w.:]*\s*\([^`]*\))`")]
    private static partial Regex FunctionRow();

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
            result.AddRange(Parse(reader.ReadToEnd()));
        }
        return result;
    }

    public static IEnumerable<ModuleInfo> Parse(string markdown)
    {
        string? heading = null;
        string description = "";
        var functions = new List<string>();
        var keywords = new List<string>();
        bool inCode = false;
        foreach (var raw in markdown.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode; continue; }
            if (inCode) continue;
            if (line.StartsWith('#'))
            {
                if (Flush() is { } done) yield return done;
                heading = line.TrimStart('#').Trim().Trim('`');
                description = "";
                functions = [];
                keywords = [];
                continue;
            }
            if (DescriptionComment().Match(line) is { Success: true } d)
            {
                description = d.Groups[1].Value;
                continue;
            }
            if (KeywordsComment().Match(line) is { Success: true } k)
            {
                keywords.AddRange(k.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                continue;
            }
            if (FunctionRow().Match(line) is { Success: true } f)
            {
                var cells = line.Split('|', StringSplitOptions.TrimEntries);
                var what = cells.Length > 2 ? cells[2] : "";
                functions.Add(f.Groups[1].Value + (what.Length > 0 ? " — " + what : ""));
                continue;
            }
            if (description.Length == 0 && functions.Count == 0 && line.Length > 0 && !line.StartsWith('|') && !line.StartsWith('-') && !line.StartsWith('<'))
                description = line;
        }
        if (Flush() is { } last) yield return last;

        ModuleInfo? Flush() => heading != null && functions.Count > 0
            ? new ModuleInfo(heading, ModuleSource.Builtin, description, keywords, [], functions, [])
            : null;
    }
}
