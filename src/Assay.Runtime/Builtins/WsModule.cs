namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the ws module is being written (see its issue).</summary>
public static class WsModule
{
    public static void Register(AssayRuntime rt) { }
}
