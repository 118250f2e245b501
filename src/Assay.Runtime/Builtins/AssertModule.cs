namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>assert</c> stays Lua's standard function (via __call) and also offers eq/ne/gt/lt/contains/
/// not_nil/matches with deep table equality. Written in Lua: prelude/assert.lua.
/// </summary>
public static class AssertModule
{
    public static void Register(AssayRuntime rt) => rt.RunPrelude("assert");
}
