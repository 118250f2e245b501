namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the base64 module is being written (see its issue).</summary>
public static class Base64Module
{
    public static void Register(AssayRuntime rt) { }
}
