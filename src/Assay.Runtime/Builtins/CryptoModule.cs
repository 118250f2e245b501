namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the crypto module is being written (see its issue).</summary>
public static class CryptoModule
{
    public static void Register(AssayRuntime rt) { }
}
