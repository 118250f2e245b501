namespace Assay.Runtime.Builtins;

/// <summary>json.parse/encode — placeholder until the JSON module lands.</summary>
public static class JsonModule
{
    public static void Register(AssayRuntime rt) { }
}
