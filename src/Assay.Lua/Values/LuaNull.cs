namespace Assay.Lua.Values;

/// <summary>
/// The .NET side of <c>json.null</c>: a value that means "null" but, unlike nil, can live inside a
/// Lua table. In Lua it is a light userdata holding NULL — the same convention lua-cjson uses, so
/// <c>v == json.null</c> works and it costs no allocation.
/// </summary>
public sealed class LuaNull
{
    public static readonly LuaNull Value = new();
    LuaNull() { }
    public override string ToString() => "null";

    public static void Push(LuaState L) => L.PushLightUserData(IntPtr.Zero);

    public static bool Is(LuaState L, int idx) =>
        L.TypeOf(idx) == LuaType.LightUserData && L.ToUserData(idx) == IntPtr.Zero;
}
