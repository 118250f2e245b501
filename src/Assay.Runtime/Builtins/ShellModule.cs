namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the shell module is being written (see its issue).</summary>
public static class ShellModule
{
    public static void Register(AssayRuntime rt) { }
}
