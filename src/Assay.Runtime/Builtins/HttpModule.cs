namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the http module is being written (see its issue).</summary>
public static class HttpModule
{
    public static void Register(AssayRuntime rt) { }
}
