namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the url module is being written (see its issue).</summary>
public static class UrlModule
{
    public static void Register(AssayRuntime rt) { }
}
