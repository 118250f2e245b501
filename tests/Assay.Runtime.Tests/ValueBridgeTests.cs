using Assay.Lua;
using Assay.Lua.Values;

namespace Assay.Runtime.Tests;

/// <summary>LuaValues.ToClr / LuaValues.Push: the Lua ⇄ .NET model other builtins build on.</summary>
public sealed class ValueBridgeTests : LuaHarness
{
    /// <summary>Evaluates a Lua expression and converts the result.</summary>
    object? FromLua(string expression) => Chunk($"return {expression}", L => LuaValues.ToClr(L, -1));

    /// <summary>Pushes a .NET value as the chunk's argument and returns what the chunk returns (a string).</summary>
    string WithArg(object? value, string code) =>
        Chunk($"local v = ... {code}", L => L.ToStringValue(-1)!, L => { LuaValues.Push(L, value); return 1; });

    LuaValueException ToClrFails(string expression) => Chunk($"return {expression}", L =>
    {
        int top = L.Top;
        var e = Assert.Throws<LuaValueException>(() => LuaValues.ToClr(L, -1));
        Assert.Equal(top, L.Top);
        return e;
    });

    [Fact]
    public void ScalarsKeepTheirTypes()
    {
        Assert.Null(FromLua("nil"));
        Assert.Equal(true, FromLua("true"));
        Assert.Equal(long.MaxValue, Assert.IsType<long>(FromLua("math.maxinteger")));
        Assert.Equal(3.0, Assert.IsType<double>(FromLua("3.0")));
        Assert.Equal("héllo", Assert.IsType<string>(FromLua("'héllo'")));
        Assert.Same(LuaNull.Value, FromLua("json.null"));
    }

    [Fact]
    public void BinaryStringsBecomeBytesAndComeBackIntact()
    {
        Assert.Equal(new byte[] { 0, 0xff, 0x80, (byte)'a' }, Assert.IsType<byte[]>(FromLua("'\\0\\xff\\x80a'")));
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Assert.Equal("256 0 255", WithArg(bytes, "return #v .. ' ' .. v:byte(1) .. ' ' .. v:byte(256)"));
        Assert.Equal(bytes, Chunk("return ...", L => LuaValues.ToClr(L, -1), L => { LuaValues.Push(L, bytes); return 1; }));
    }

    [Fact]
    public void TablesBecomeListsOrSortedMaps()
    {
        var list = Assert.IsType<List<object?>>(FromLua("{1, 'two', {3}}"));
        Assert.Equal(3, list.Count);
        Assert.Equal(1L, list[0]);
        Assert.Equal([3L], Assert.IsType<List<object?>>(list[2]));

        var map = Assert.IsType<OrderedDictionary<string, object?>>(FromLua("{b = 1, a = {x = true}, [3] = 'n'}"));
        Assert.Equal(["3", "a", "b"], map.Keys);
        Assert.Equal(true, Assert.IsType<OrderedDictionary<string, object?>>(map["a"])["x"]);

        Assert.IsType<List<object?>>(FromLua("{}"));
        Assert.Empty(Assert.IsType<OrderedDictionary<string, object?>>(FromLua("json.object()")));
        Assert.Equal([1L, null, 3L], Assert.IsType<List<object?>>(FromLua("json.array({[1] = 1, [3] = 3})")));
        Assert.Equal(["1", "3"], Assert.IsType<OrderedDictionary<string, object?>>(FromLua("{[1] = 1, [3] = 3}")).Keys);
    }

    [Fact]
    public void ErrorsNameTheProblemAndPath()
    {
        Assert.Equal("cannot convert a function value at $.a[2]", ToClrFails("{a = {1, print}}").Message);
        Assert.Equal("unsupported table key type (boolean) at $.k", ToClrFails("{k = {[true] = 1}}").Message);
        Assert.Equal("circular reference (a table contains itself) at $.self", ToClrFails("(function() local t = {} t.self = t return t end)()").Message);
        var deep = ToClrFails("(function() local t = {} for _ = 1, 1000 do t = {t} end return t end)()");
        Assert.StartsWith("nesting deeper than 1000 levels at $[1][1]", deep.Message);
        Assert.Equal("nesting deeper than 1000 levels", deep.Problem);
    }

    [Fact]
    public void PushBuildsTablesThatRoundTrip()
    {
        var value = new Dictionary<string, object?>
        {
            ["int"] = long.MaxValue,
            ["small"] = 7,
            ["float"] = 1.0,
            ["list"] = new List<object?> { 1, "x", null, LuaNull.Value },
            ["empty_map"] = new Dictionary<string, object?>(),
            ["empty_list"] = Array.Empty<object>(),
            ["flag"] = false,
        };
        Assert.Equal("""{"empty_list":[],"empty_map":{},"flag":false,"float":1.0,"int":9223372036854775807,"list":[1,"x",null,null],"small":7}""",
            WithArg(value, "return json.encode(v)"));
        Assert.Equal("integer float", WithArg(value, "return math.type(v.int) .. ' ' .. math.type(v.float)"));
    }

    [Fact]
    public void PushRejectsCyclesAndUnknownTypes()
    {
        var cyclic = new List<object?> { 1 };
        cyclic.Add(new List<object?> { cyclic });
        var L = Vm.Main;
        int top = L.Top;
        var e = Assert.Throws<LuaValueException>(() => LuaValues.Push(L, cyclic));
        Assert.Equal("circular reference (a collection contains itself) at $[2][1]", e.Message);
        Assert.Equal(top, L.Top);
        e = Assert.Throws<LuaValueException>(() => LuaValues.Push(L, new Dictionary<string, object?> { ["x"] = new object() }));
        Assert.Equal("cannot convert a value of type Object at $.x", e.Message);
        Assert.Equal(top, L.Top);
    }

    [Fact]
    public void ToClrOfPushIsIdentityOnTheModel()
    {
        var value = new OrderedDictionary<string, object?>
        {
            ["a"] = new List<object?> { 1L, 2.5, "s", LuaNull.Value, new byte[] { 0xff } },
            ["b"] = new OrderedDictionary<string, object?>(),
            ["c"] = true,
        };
        var L = Vm.Main;
        LuaValues.Push(L, value);
        var back = Assert.IsType<OrderedDictionary<string, object?>>(LuaValues.ToClr(L, -1));
        L.Pop(1);
        Assert.Equal(["a", "b", "c"], back.Keys);
        var a = Assert.IsType<List<object?>>(back["a"]);
        Assert.Equal(1L, a[0]);
        Assert.Equal(2.5, a[1]);
        Assert.Equal("s", a[2]);
        Assert.Same(LuaNull.Value, a[3]);
        Assert.Equal(new byte[] { 0xff }, a[4]);
        Assert.Empty(Assert.IsType<OrderedDictionary<string, object?>>(back["b"]));
    }
}
