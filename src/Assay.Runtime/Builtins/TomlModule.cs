namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the toml module is being written (see its issue).</summary>
public static class TomlModule
{
    public static void Register(AssayRuntime rt) { }
}
