namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the fs module is being written (see its issue).</summary>
public static class FsModule
{
    public static void Register(AssayRuntime rt) { }
}
