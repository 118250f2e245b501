namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the disk module is being written (see its issue).</summary>
public static class DiskModule
{
    public static void Register(AssayRuntime rt) { }
}
