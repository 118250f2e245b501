using Assay.Runtime.Builtins;

namespace Assay.Runtime.Discovery;

/// <summary>
/// Every module a script can use, from the places `require` looks (./modules, the global
/// directory, the embedded stdlib) plus the builtins. The first of a name wins, as in require.
/// </summary>
public static class ModuleCatalog
{
    public static IReadOnlyList<ModuleInfo> Discover(string? globalDir = null)
    {
        var all = new List<ModuleInfo>();
        all.AddRange(Read(FromDirectory("modules"), ModuleSource.Project));
        all.AddRange(Read(FromDirectory(globalDir ?? ModuleLoader.GlobalModulesDir(new RuntimeOptions())), ModuleSource.Global));
        all.AddRange(Read(Embedded(), ModuleSource.Embedded));
        all.AddRange(BuiltinDocs.Load());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return all.Where(m => seen.Add(m.Name)).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The modules among Lua files of one place. A file tagged <c>@internal</c> is a part of the module one
    /// level up (stdlib/workflow/worker.lua of assay.workflow): it is read as more of that module's source,
    /// so its functions join that module's list, and it is not listed itself.
    /// </summary>
    static IEnumerable<ModuleInfo> Read(List<LuaSource> files, ModuleSource source)
    {
        var parsed = files.Select(f => LuaModuleHeader.Parse(f.Name, source, f.Text, f.Path)).ToList();
        for (int i = 0; i < files.Count; i++)
        {
            if (parsed[i].IsPart) continue;
            var parts = files.Where((f, j) => parsed[j].IsPart && f.Name.StartsWith(files[i].Name + ".", StringComparison.Ordinal)
                                               && f.Name.LastIndexOf('.') == files[i].Name.Length)
                             .OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => f.Text).ToList();
            yield return parts.Count == 0 ? parsed[i]
                : LuaModuleHeader.Parse(files[i].Name, source, string.Join("\n", parts.Prepend(files[i].Text)), files[i].Path);
        }
    }

    readonly record struct LuaSource(string Name, string Text, string? Path = null);

    static List<LuaSource> Embedded()
    {
        var files = new List<LuaSource>();
        foreach (var name in ModuleLoader.EmbeddedModules())
        {
            var rel = name["assay.".Length..].Replace('.', '/');
            if (ModuleLoader.TryGetEmbedded(rel + ".lua", out var source) || ModuleLoader.TryGetEmbedded(rel + "/init.lua", out source))
                files.Add(new(name, System.Text.Encoding.UTF8.GetString(source)));
        }
        return files;
    }

    static List<LuaSource> FromDirectory(string dir)
    {
        var modules = new List<LuaSource>();
        if (!Directory.Exists(dir)) return modules;
        IEnumerable<string> files;
        try { files = Directory.EnumerateFiles(dir, "*.lua", SearchOption.AllDirectories).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return modules; }
        foreach (var file in files)
        {
            string text;
            try { text = File.ReadAllText(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            var rel = Path.GetRelativePath(dir, file)[..^".lua".Length].Replace(Path.DirectorySeparatorChar, '.');
            if (rel.EndsWith(".init", StringComparison.Ordinal)) rel = rel[..^".init".Length];
            modules.Add(new("assay." + rel, text, file));
        }
        return modules;
    }
}
