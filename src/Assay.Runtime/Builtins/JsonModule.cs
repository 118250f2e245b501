using Assay.Lua;
using Assay.Lua.Values;

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
        if (L.TypeOf(1) != LuaType.String) throw call.ArgError(1, $"string expected, got {call.TypeName(1)}");
        var options = new JsonDecodeOptions();
        if (L.TypeOf(2) == LuaType.Table)
        {
            L.CheckStack(2);
            // {null = X}: every JSON null becomes X. Index 3 holds it for the whole parse.
            L.SetTop(2);
            if (L.RawGetField(2, "null") != LuaType.Nil) options = new JsonDecodeOptions(ReplacementIndex: 3);
        }
        else if (!L.IsNoneOrNil(2)) throw call.ArgError(2, $"table expected, got {call.TypeName(2)}");
        try
        {
            JsonDecoder.Push(L, L.ToBytes(1), options);
        }
        catch (LuaException e)
        {
            return call.Error("json.parse: " + e.Message);
        }
        return 1;
    }

    static int Encode(LuaCall call)
    {
        var L = call.L;
        if (L.TypeOf(1) == LuaType.None) throw call.ArgError(1, "value expected");
        var options = ReadEncodeOptions(call);
        try
        {
            JsonEncoder.Push(L, 1, options);
        }
        catch (LuaValueException e)
        {
            e.Prefix = "json.encode: ";
            return call.Error(e.Message);
        }
        return 1;
    }

    /// <summary>{pretty = true, indent = 2}; an indent alone implies pretty.</summary>
    static JsonEncodeOptions ReadEncodeOptions(LuaCall call)
    {
        var L = call.L;
        if (L.IsNoneOrNil(2)) return default;
        if (L.TypeOf(2) != LuaType.Table) throw call.ArgError(2, $"table expected, got {call.TypeName(2)}");
        L.CheckStack(2);
        bool pretty = L.RawGetField(2, "pretty") != LuaType.Nil && L.ToBoolean(-1);
        L.Pop(1);
        int indent = 2;
        if (L.RawGetField(2, "indent") != LuaType.Nil)
        {
            if (!L.TryGetInteger(-1, out long n) || n < 0 || n > 16)
                throw new LuaException("json.encode: option 'indent' must be an integer from 0 to 16");
            indent = (int)n;
            pretty = true;
        }
        L.Pop(1);
        return new JsonEncodeOptions(pretty, indent);
    }
}
