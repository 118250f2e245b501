namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>require("assay.x")</c>: ./modules/x.lua (or x/init.lua), then $ASSAY_MODULES_PATH or
/// ~/.assay/modules, then the stdlib embedded in the binary (stdlib/x.lua) — so a user's file
/// overrides an embedded one. Other names follow package.path. Searchers: prelude/modules.lua.
/// </summary>
public static class ModuleLoader
{
    public static void Register(AssayRuntime rt)
    {
        rt.RunPrelude("modules", L =>
        {
            L.NewTable();
            rt.Vm.SetFunction(L, -1, "require", "embedded", static call =>
            {
                if (TryGetEmbedded(call.CheckString(1), out var source)) call.L.PushBytes(source); else call.L.PushNil();
                return 1;
            });
            L.PushString(GlobalModulesDir(rt.Options));
            L.RawSetField(-2, "global_dir");
            return 1;
        });
    }

    /// <summary>The embedded stdlib file at <paramref name="relativePath"/> (e.g. "workflow.lua"), compiled into the binary.</summary>
    public static bool TryGetEmbedded(string relativePath, out ReadOnlySpan<byte> source) =>
        EmbeddedFiles.TryGet("stdlib/" + relativePath, out source);

    /// <summary>Names of the embedded stdlib modules ("assay.workflow", …).</summary>
    public static IEnumerable<string> EmbeddedModules() =>
        EmbeddedFiles.Names
            .Where(n => n.StartsWith("stdlib/", StringComparison.Ordinal) && n.EndsWith(".lua", StringComparison.Ordinal))
            .Select(n => "assay." + n["stdlib/".Length..^".lua".Length].Replace("/init", "").Replace('/', '.'))
            .Order(StringComparer.Ordinal);

    public static string GlobalModulesDir(RuntimeOptions options)
    {
        if (!string.IsNullOrEmpty(options.GlobalModulesPath)) return options.GlobalModulesPath;
        var env = Environment.GetEnvironmentVariable("ASSAY_MODULES_PATH");
        if (!string.IsNullOrEmpty(env)) return env;
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".assay", "modules");
    }
}
