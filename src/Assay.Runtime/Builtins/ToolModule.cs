namespace Assay.Runtime.Builtins;

/// <summary><c>tool.approve</c> gates and <c>tool.is_tool_mode</c> (prelude/tool.lua); see `assay run --mode tool`.</summary>
public static class ToolModule
{
    public static void Register(AssayRuntime rt) => rt.RunPrelude("tool");
}
