namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the yaml module is being written (see its issue).</summary>
public static class YamlModule
{
    public static void Register(AssayRuntime rt) { }
}
