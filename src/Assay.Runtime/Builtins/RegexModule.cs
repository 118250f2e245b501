namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the regex module is being written (see its issue).</summary>
public static class RegexModule
{
    public static void Register(AssayRuntime rt) { }
}
