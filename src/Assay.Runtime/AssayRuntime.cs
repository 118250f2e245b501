using Assay.Lua;
using Assay.Runtime.Builtins;

namespace Assay.Runtime;

public sealed class RuntimeOptions
{
    public long MemoryLimitBytes { get; set; } = 1L << 30;
    public Logger Logger { get; set; } = new();
    /// <summary>Variables env.get sees before the process environment (a check's `env:`); not inherited by children.</summary>
    public IReadOnlyDictionary<string, string>? EnvironmentOverlay { get; set; }

    /// <summary>Overrides $ASSAY_MODULES_PATH / ~/.assay/modules (tests).</summary>
    public string? GlobalModulesPath { get; set; }
}

/// <summary>
/// A Lua VM with every Assay builtin installed: what `assay script.lua` runs on. Each builtin
/// module lives in its own file under Builtins/ and registers itself here.
/// </summary>
public sealed class AssayRuntime : IDisposable
{
    public AssayRuntime(RuntimeOptions? options = null)
    {
        Options = options ?? new RuntimeOptions();
        Vm = new LuaVm(new LuaVmOptions { MemoryLimitBytes = Options.MemoryLimitBytes });
        Vm.Loop.UnhandledTaskError += task =>
            Logger.Error($"unhandled error in task '{task.Name}': {LuaErrors.CleanTraceback(task.ErrorReport ?? "")}");
        foreach (var register in Modules) register(this);
    }

    /// <summary>Registration order matters only where a prelude uses another module.</summary>
    static readonly Action<AssayRuntime>[] Modules =
    [
        CoreModule.Register,
        LogModule.Register,
        EnvModule.Register,
        OsModule.Register,
        JsonModule.Register,
        AssertModule.Register,
        AsyncModule.Register,
        YamlModule.Register,
        TomlModule.Register,
        Base64Module.Register,
        HexModule.Register,
        UrlModule.Register,
        CryptoModule.Register,
        RegexModule.Register,
        MarkdownModule.Register,
        FsModule.Register,
        ShellModule.Register,
        ProcessModule.Register,
        DiskModule.Register,
        DbModule.Register,
        TemplateModule.Register,
        HttpModule.Register,
        WsModule.Register,
        ToolModule.Register,
        ModuleLoader.Register,
    ];

    public RuntimeOptions Options { get; }
    public LuaVm Vm { get; }
    public Logger Logger => Options.Logger;

    /// <summary>Runs a prelude written in Lua (prelude/NAME.lua, compiled in) with optional natives.</summary>
    public void RunPrelude(string name, Func<LuaState, int>? pushArgs = null, int nresults = 0) =>
        Vm.Execute(EmbeddedFiles.Get($"prelude/{name}.lua"), $"=[assay {name}]", pushArgs, nresults);

    public void Dispose() => Vm.Dispose();
}
