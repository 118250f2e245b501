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
        all.AddRange(FromDirectory("modules", ModuleSource.Project));
        all.AddRange(FromDirectory(globalDir ?? ModuleLoader.GlobalModulesDir(new RuntimeOptions()), ModuleSource.Global));
        foreach (var name in ModuleLoader.EmbeddedModules())
        {
            var rel = name["assay.".Length..].Replace('.', '/');
            if (ModuleLoader.TryGetEmbedded(rel + ".lua", out var source) || ModuleLoader.TryGetEmbedded(rel + "/init.lua", out source))
                all.Add(LuaModuleHeader.Parse(name, ModuleSource.Embedded, System.Text.Encoding.UTF8.GetString(source)));
        }
        all.AddRange(BuiltinDocs.Load());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return all.Where(m => seen.Add(m.Name)).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
    }

    static IEnumerable<ModuleInfo> FromDirectory(string dir, ModuleSource source)
    {
        if (!Directory.Exists(dir)) yield break;
        IEnumerable<string> files;
        try { files = Directory.EnumerateFiles(dir, "*.lua", SearchOption.AllDirectories).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var file in files)
        {
            string text;
            try { text = File.ReadAllText(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            var rel = Path.GetRelativePath(dir, file)[..^".lua".Length].Replace(Path.DirectorySeparatorChar, '.');
            if (rel.EndsWith(".init", StringComparison.Ordinal)) rel = rel[..^".init".Length];
            yield return LuaModuleHeader.Parse("assay." + rel, source, text, file);
        }
    }
}
