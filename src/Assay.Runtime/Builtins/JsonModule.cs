namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>json.parse(text, opts?)</c>, <c>json.encode(value, opts?)</c>, <c>json.null</c>,
/// <c>json.object(t?)</c>, <c>json.array(t?)</c>. The conversions themselves live in
/// Assay.Lua/Values (JsonEncoder/JsonDecoder) so other builtins (http, serve) share them; the
/// markers are set by prelude/json.lua. Reference page: docs/modules/json.md.
/// </summary>
public static class JsonModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("json", ("parse", Parse), ("encode", Encode));
        rt.RunPrelude("json", L =>
        {
            L.NewTable();
            LuaTables.PushMarkerMetatable(L, TableMarker.Object);
            L.RawSetField(-2, "object_mt");
            LuaTables.PushMarkerMetatable(L, TableMarker.Array);
            L.RawSetField(-2, "array_mt");
            LuaNull.Push(L);
            L.RawSetField(-2, "null");
            return 1;
        });
    }

    static int Parse(LuaCall call)
    {
        var L = call.L;
        call.CheckType(1, LuaType.String, "string");
        var options = call.Options(2, ["null"]);
        var decode = new JsonDecodeOptions();
        if (options.Given)
        {
            // {null = X}: every JSON null becomes X. Index 3 holds it for the whole parse.
            L.SetTop(2);
            if (options.Push("null") != LuaType.Nil) decode = new JsonDecodeOptions(ReplacementIndex: 3);
        }
        try
        {
            JsonDecoder.Push(L, L.ToBytes(1), decode);
        }
        catch (LuaException e)
        {
            return call.Fail(e.Message);
        }
        return 1;
    }

    static int Encode(LuaCall call)
    {
        call.CheckValue(1);
        var options = ReadEncodeOptions(call);
        try
        {
            JsonEncoder.Push(call.L, 1, options);
        }
        catch (LuaValueException e)
        {
            return call.Fail(e.Message);
        }
        return 1;
    }

    /// <summary>{pretty = true, indent = 2}; an indent alone implies pretty.</summary>
    static JsonEncodeOptions ReadEncodeOptions(LuaCall call)
    {
        var options = call.Options(2, ["pretty", "indent"]);
        if (!options.Given) return default;
        var indent = options.Integer("indent", min: 0, max: 16);
        return new JsonEncodeOptions(options.Flag("pretty") || indent != null, (int)(indent ?? 2));
    }
}
