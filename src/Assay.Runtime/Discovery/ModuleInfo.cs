namespace Assay.Runtime.Discovery;

public enum ModuleSource { Project, Global, Embedded, Builtin }

/// <summary>What discovery knows about one module: enough to list it and to brief an LLM on it.</summary>
public sealed record ModuleInfo(
    string Name,
    ModuleSource Source,
    string Description,
    IReadOnlyList<string> Keywords,
    IReadOnlyList<string> Env,
    IReadOnlyList<string> Functions,
    IReadOnlyList<string> Examples,
    string? Path = null)
{
    /// <summary>An internal part of the module one level up (header tag <c>@internal</c>), not a module of its own.</summary>
    public bool IsPart { get; init; }

    public string SourceName => Source switch
    {
        ModuleSource.Project => "project",
        ModuleSource.Global => "global",
        // compiled into the binary, like the builtins: the original labels both "builtin"
        _ => "builtin",
    };
}
