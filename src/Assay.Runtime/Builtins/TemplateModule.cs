namespace Assay.Runtime.Builtins;

/// <summary>Placeholder: the template module is being written (see its issue).</summary>
public static class TemplateModule
{
    public static void Register(AssayRuntime rt) { }
}
