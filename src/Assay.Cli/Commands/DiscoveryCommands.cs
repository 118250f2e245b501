using Assay.Runtime.Discovery;

namespace Assay.Cli.Commands;

/// <summary>
/// `assay modules` lists every module a script can use; `assay context QUERY` prints ranked,
/// LLM-ready Markdown about the best matches with exact signatures.
/// </summary>
public static class DiscoveryCommands
{
    public static Command Modules()
    {
        var asJson = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var command = new Command("modules", "List builtins and assay.* modules with where they come from") { asJson };
        command.SetAction(parse =>
        {
            var modules = ModuleCatalog.Discover();
            if (parse.GetValue(asJson)) Console.Out.WriteLine(ToJson(modules));
            else
            {
                Console.Out.WriteLine($"{"MODULE",-30} {"SOURCE",-10} DESCRIPTION");
                Console.Out.WriteLine(new string('-', 80));
                foreach (var m in modules) Console.Out.WriteLine($"{m.Name,-30} {m.SourceName,-10} {m.Description}".TrimEnd());
            }
            return 0;
        });
        return command;
    }

    public static Command Context()
    {
        var query = new Argument<string>("query") { Description = "What you want to do, in words" };
        var limit = new Option<int>("--limit", "-l") { Description = "How many modules (default 5)", DefaultValueFactory = _ => 5 };
        var asJson = new Option<bool>("--json") { Description = "Print JSON instead of Markdown" };
        var command = new Command("context", "Print Markdown context about the modules that match QUERY (for LLM prompts)") { query, limit, asJson };
        command.SetAction(parse =>
        {
            var modules = ModuleCatalog.Discover();
            var hits = new Bm25Index(modules).Search(parse.GetValue(query)!, Math.Max(1, parse.GetValue(limit)));
            if (parse.GetValue(asJson)) Console.Out.WriteLine(ToJson(hits.Select(h => h.Module).ToList(), hits.Select(h => h.Score).ToList()));
            else Console.Out.Write(Markdown(hits.Select(h => h.Module).ToList(), modules));
            return 0;
        });
        return command;
    }

    static string Markdown(IReadOnlyList<ModuleInfo> hits, IReadOnlyList<ModuleInfo> all)
    {
        var sb = new StringBuilder("# Assay Module Context\n\n## Matching Modules\n\n");
        if (hits.Count == 0) sb.Append("No matching modules found.\n\n");
        foreach (var m in hits)
        {
            sb.Append("### ").Append(m.Name).Append(m.Source == ModuleSource.Builtin ? " (builtin, no require needed)" : $" (require(\"{m.Name}\"), {m.SourceName})").Append('\n');
            if (m.Description.Length > 0) sb.Append(m.Description).Append('\n');
            if (m.Env.Count > 0) sb.Append("Env: ").Append(string.Join(", ", m.Env)).Append('\n');
            if (m.Functions.Count > 0)
            {
                sb.Append("Functions:\n");
                foreach (var f in m.Functions) sb.Append("  ").Append(f).Append('\n');
            }
            foreach (var e in m.Examples) sb.Append("Example: `").Append(e).Append("`\n");
            sb.Append('\n');
        }
        sb.Append("## Built-in Functions (always available, no require needed)\n\n");
        foreach (var m in all.Where(m => m.Source == ModuleSource.Builtin))
            sb.Append("- ").Append(m.Name).Append(": ").Append(string.Join("; ", m.Functions.Select(f => f.Split(" — ")[0]))).Append('\n');
        return sb.ToString();
    }

    static string ToJson(IReadOnlyList<ModuleInfo> modules, IReadOnlyList<double>? scores = null) => CliJson.Write(w =>
        {
            w.WriteStartArray();
            for (int i = 0; i < modules.Count; i++)
            {
                var m = modules[i];
                w.WriteStartObject();
                w.WriteString("name", m.Name);
                w.WriteString("source", m.SourceName);
                w.WriteString("description", m.Description);
                if (scores != null) w.WriteNumber("score", Math.Round(scores[i], 4));
                Strings(w, "keywords", m.Keywords);
                Strings(w, "env", m.Env);
                Strings(w, "functions", m.Functions);
                if (m.Path != null) w.WriteString("path", m.Path);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }, indented: true);

    static void Strings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
