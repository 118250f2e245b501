namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the markdown module is being written (see its issue).</summary>
public static class MarkdownModule
{
    public static void Register(AssayRuntime rt) { }
}
