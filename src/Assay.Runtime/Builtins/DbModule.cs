namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the db module is being written (see its issue).</summary>
public static class DbModule
{
    public static void Register(AssayRuntime rt) { }
}
