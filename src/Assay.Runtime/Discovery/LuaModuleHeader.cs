namespace Assay.Runtime.Discovery;

/// <summary>
/// Reads the metadata header of a Lua module: the leading `---` lines with `@module`,
/// `@description`, `@keywords`, `@env`, `@example`, `@quickref` and `@internal` tags, plus the
/// names of the functions the file defines (`function M.name(`, `function c.x:y(`). Never fails.
/// `@internal` marks a part of the module one level up (stdlib/workflow/worker.lua of
/// assay.workflow): discovery lists its functions under that module, not the part itself.
/// </summary>
public static class LuaModuleHeader
{
    public static ModuleInfo Parse(string name, ModuleSource source, string text, string? path = null)
    {
        string description = "";
        var keywords = new List<string>();
        var env = new List<string>();
        var examples = new List<string>();
        var functions = new List<string>();
        bool isPart = false;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("---", StringComparison.Ordinal)) break;
            var body = line.TrimStart('-').Trim();
            if (!body.StartsWith('@')) continue;
            int space = body.IndexOfAny([' ', '\t']);
            if (space < 0) continue;
            var tag = body[1..space];
            var value = body[(space + 1)..].Trim();
            switch (tag)
            {
                case "description": description = description.Length == 0 ? value : description + " " + value; break;
                case "keywords": keywords.AddRange(List(value)); break;
                case "env": env.AddRange(List(value)); break;
                case "example": examples.Add(value); break;
                case "quickref": functions.Add(value); break;
                case "internal": isPart = true; break;
            }
        }
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("function ", StringComparison.Ordinal)) continue;
            int paren = line.IndexOf('(');
            if (paren < 0) continue;
            var head = line[9..paren];
            int sep = head.IndexOfAny(['.', ':']);
            if (sep < 0) continue;
            var fn = head[(sep + 1)..].Trim();
            if (fn.StartsWith('_')) continue; // internal helpers are not API
            int close = line.IndexOf(')', paren);
            var signature = name + "." + fn + line[paren..(close >= 0 ? close + 1 : line.Length)];
            if (!functions.Any(f => f.StartsWith(signature, StringComparison.Ordinal))) functions.Add(signature);
        }
        return new ModuleInfo(name, source, description, keywords, env, functions, examples, path) { IsPart = isPart };
    }

    static IEnumerable<string> List(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
