namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the process module is being written (see its issue).</summary>
public static class ProcessModule
{
    public static void Register(AssayRuntime rt) { }
}
