namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the hex module is being written (see its issue).</summary>
public static class HexModule
{
    public static void Register(AssayRuntime rt) { }
}
