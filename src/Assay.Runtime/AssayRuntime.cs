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
        foreach (var register in CoreModules) register(this);
        InstallLazyGlobals();
    }

    /// <summary>Installed at start: what the loop, the preludes and nearly every script use.
    /// Registration order matters only where a prelude uses another module.</summary>
    static readonly Action<AssayRuntime>[] CoreModules =
    [
        CoreModule.Register,
        LogModule.Register,
        EnvModule.Register,
        OsModule.Register,
        JsonModule.Register,
        AssertModule.Register,
        AsyncModule.Register,
        ModuleLoader.Register,
    ];

    /// <summary>
    /// Installed on first use of their global (see prelude/lazy.lua). A script touches few of them,
    /// and registering all of them at start cost ~3 ms of every cold start: their code pages,
    /// statics and preludes, for modules the script never calls.
    /// </summary>
    static readonly Dictionary<string, Action<AssayRuntime>> LazyModules = new(StringComparer.Ordinal)
    {
        ["yaml"] = YamlModule.Register,
        ["toml"] = TomlModule.Register,
        ["base64"] = Base64Module.Register,
        ["hex"] = HexModule.Register,
        ["url"] = UrlModule.Register,
        ["crypto"] = CryptoModule.Register,
        ["regex"] = RegexModule.Register,
        ["markdown"] = MarkdownModule.Register,
        ["fs"] = FsModule.Register,
        ["shell"] = ShellModule.Register,
        ["process"] = ProcessModule.Register,
        ["disk"] = DiskModule.Register,
        ["db"] = DbModule.Register,
        ["template"] = TemplateModule.Register,
        ["http"] = HttpModule.Register,
        ["ws"] = WsModule.Register,
        ["tool"] = ToolModule.Register,
    };

    readonly HashSet<string> _installed = new(StringComparer.Ordinal);

    public bool IsInstalled(string name) => _installed.Contains(name);

    /// <summary>Installs the lazy module behind global <paramref name="name"/> now (no-op when it is
    /// installed or unknown). Marked first, so a prelude touching its own global does not recurse.</summary>
    public void Install(string name)
    {
        if (LazyModules.TryGetValue(name, out var register) && _installed.Add(name)) register(this);
    }

    void InstallLazyGlobals() => RunPrelude("lazy", L =>
    {
        L.NewTable();
        Vm.SetFunction(L, -1, "install", "install", call =>
        {
            Install(call.CheckString(1));
            return 0;
        });
        L.NewTable(LazyModules.Count, 0);
        int i = 0;
        foreach (var name in LazyModules.Keys)
        {
            L.PushString(name);
            L.RawSetIndex(-2, ++i);
        }
        L.RawSetField(-2, "names");
        return 1;
    });

    public RuntimeOptions Options { get; }
    public LuaVm Vm { get; }

    /// <summary>Set by a host that can ask a person and resume (tool mode): an unanswered approval
    /// gate then halts the run with <see cref="PendingApproval"/> instead of raising an error.</summary>
    public bool ApprovalGatesHalt { get; set; }

    /// <summary>The approval gate that halted the run, or null.</summary>
    public ApprovalRequest? PendingApproval { get; internal set; }
    public Logger Logger => Options.Logger;

    /// <summary>Runs a prelude written in Lua (prelude/NAME.lua, compiled in as bytecode whose chunk
    /// name "=[assay NAME]" the project file sets) with optional natives.</summary>
    public void RunPrelude(string name, Func<LuaState, int>? pushArgs = null, int nresults = 0) =>
        Vm.ExecutePrecompiled(EmbeddedFiles.Get($"prelude/{name}.luac"), $"=[assay {name}]", pushArgs, nresults);

    /// <summary>Kills the process groups of this runtime's running shell.exec/process.run commands.</summary>
    public void KillChildProcesses() => Builtins.Exec.ChildProcess.KillGroups(Vm);

    public void Dispose()
    {
        // Commands still running belong to this runtime (an uncaught error ended the script while
        // another task waited on shell.exec): kill their process groups, leave no orphans.
        KillChildProcesses();
        Vm.Dispose();
    }
}
