using Assay.Lua;

namespace Assay.Runtime.Tests;

/// <summary>json.parse / json.encode / json.null / json.object / json.array, driven from Lua.</summary>
public sealed class JsonTests : LuaHarness
{
    // ------------------------------------------------------------------ encode

    [Theory]
    [InlineData("1", "1")]
    [InlineData("-42", "-42")]
    [InlineData("math.maxinteger", "9223372036854775807")]
    [InlineData("math.mininteger", "-9223372036854775808")]
    [InlineData("1.0", "1.0")]
    [InlineData("-0.0", "-0.0")]
    [InlineData("1.5", "1.5")]
    [InlineData("0.1", "0.1")]
    [InlineData("1e300", "1e+300")]
    [InlineData("2^53", "9007199254740992.0")]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    [InlineData("nil", "null")]
    [InlineData("json.null", "null")]
    [InlineData("'hi'", "\"hi\"")]
    public void EncodesScalars(string lua, string expected) =>
        Assert.Equal(expected, Chunk($"return json.encode({lua})"));

    [Fact]
    public void FloatsRoundTripExactly()
    {
        Assert.Equal("ok", Chunk("""
            for _, x in ipairs({0.1, 1/3, 1e-7, 123456789.123, 2^60, -1.5e-300, 5e-324}) do
              local y = json.parse(json.encode(x))
              assert(y == x and math.type(y) == "float", tostring(x) .. " came back as " .. tostring(y))
            end
            return "ok"
            """));
    }

    [Fact]
    public void EscapesOnlyWhatJsonRequires()
    {
        Assert.Equal("\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f/é😀\"",
            Chunk("return json.encode('a\"b\\\\c\\n\\t\\r\\b\\f\\1\\31/é😀')"));
    }

    [Fact]
    public void SortsObjectKeysByBytes()
    {
        Assert.Equal("""{"B":0,"a":2,"b":1,"c":{"y":2,"z":1},"é":3}""",
            Chunk("return json.encode({b = 1, a = 2, c = {z = 1, y = 2}, B = 0, ['é'] = 3})"));
    }

    [Theory]
    [InlineData("{1, 2, 3}", "[1,2,3]")]
    [InlineData("{}", "[]")]
    [InlineData("json.object()", "{}")]
    [InlineData("json.object({})", "{}")]
    [InlineData("json.array()", "[]")]
    [InlineData("{json.object(), {}}", "[{},[]]")]
    [InlineData("(function() local t = {} t[3] = 'c' t[2] = 'b' t[1] = 'a' return t end)()", "[\"a\",\"b\",\"c\"]")]
    [InlineData("{[1] = 1, [3] = 3}", "{\"1\":1,\"3\":3}")]
    [InlineData("{1, 2, x = true}", "{\"1\":1,\"2\":2,\"x\":true}")]
    [InlineData("{[0] = 'z', 'a'}", "{\"0\":\"z\",\"1\":\"a\"}")]
    [InlineData("{[1.5] = 'f', [-2] = 'n'}", "{\"-2\":\"n\",\"1.5\":\"f\"}")]
    [InlineData("json.array({[1] = 1, [3] = 3})", "[1,null,3]")]
    [InlineData("json.object({'a', 'b'})", "{\"1\":\"a\",\"2\":\"b\"}")]
    [InlineData("{1, json.null, 3}", "[1,null,3]")]
    public void ChoosesArrayOrObject(string lua, string expected) =>
        Assert.Equal(expected, Chunk($"return json.encode({lua})"));

    [Fact]
    public void ArrayWithHoleFoundOnFastPathFallsBackToObject()
    {
        // rawlen may report 4 for {1, 2, nil, 4}: the hole must be noticed, not encoded as null.
        Assert.Equal("""{"1":1,"2":2,"4":4}""", Chunk("return json.encode({1, 2, nil, 4})"));
    }

    [Fact]
    public void PrettyPrintsWithExactLayout()
    {
        Assert.Equal("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": [],\n  \"d\": {\n    \"e\": null\n  }\n}",
            Chunk("return json.encode({a = {1, 2}, b = json.object(), c = {}, d = {e = json.null}}, {pretty = true})"));
        Assert.Equal("[\n    1\n]", Chunk("return json.encode({1}, {indent = 4})"));
        Assert.Equal("[1,2]", Chunk("return json.encode({1, 2}, {pretty = false})"));
    }

    [Theory]
    [InlineData("{f = print}", "json.encode: cannot encode a function value at $.f")]
    [InlineData("{a = {1, 2, coroutine.create(print)}}", "json.encode: cannot encode a thread value at $.a[3]")]
    [InlineData("{a = {1, 2, '\\xff'}}", "json.encode: invalid UTF-8 in string at $.a[3]")]
    [InlineData("{['my key'] = {0/0}}", "json.encode: cannot encode -nan as a JSON number at $[\"my key\"][1]")]
    [InlineData("{x = math.huge}", "json.encode: cannot encode inf as a JSON number at $.x")]
    [InlineData("{[true] = 1}", "json.encode: unsupported table key type (boolean) at $")]
    [InlineData("{['\\xff'] = 1}", "json.encode: invalid UTF-8 in object key at $")]
    [InlineData("{[1] = 'a', ['1'] = 'b'}", "json.encode: duplicate object key \"1\" (a number key and a string key with the same text) at $")]
    [InlineData("json.array({x = 1})", "json.encode: table marked as array has a key that is not a positive integer at $")]
    [InlineData("io.stdout", "json.encode: cannot encode a userdata value at $")]
    public void EncodeErrorsNameTheProblemAndPath(string lua, string expected)
    {
        var message = ChunkError($"json.encode({lua})");
        if (expected.Contains("nan")) message = message.Replace("-nan", "nan").Replace("nan", "-nan");
        Assert.EndsWith(expected, message);
    }

    [Fact]
    public void EncodeErrorsCarryTheCallersLine()
    {
        Assert.StartsWith("test:2: json.encode:", ChunkError("local x = 1\njson.encode(print)"));
    }

    [Fact]
    public void DetectsCycles()
    {
        Assert.EndsWith("json.encode: circular reference (a table contains itself) at $.a.b",
            ChunkError("local t = {a = {}} t.a.b = t json.encode(t)"));
        Assert.Contains("circular reference", ChunkError("local t = {} t[1] = t json.encode(t)"));
        // The same table twice (not a cycle) is fine.
        Assert.Equal("""{"x":[1],"y":[1]}""", Chunk("local s = {1} return json.encode({x = s, y = s})"));
    }

    [Fact]
    public void LimitsDepth()
    {
        const string Nest = "local function nest(n) local t = {} for _ = 1, n - 1 do t = {t} end return t end ";
        Assert.Equal("ok", Chunk(Nest + "assert(#json.encode(nest(1000)) == 2000) return 'ok'"));
        var message = ChunkError(Nest + "json.encode(nest(1001))");
        Assert.Contains("json.encode: nesting deeper than 1000 levels at $[1][1]", message);
        Assert.True(message.Length < 300, "a deep path is elided: " + message);
    }

    [Fact]
    public void RejectsBadOptions()
    {
        Assert.Contains("bad argument #2 to 'json.encode' (options table expected, got string)", ChunkError("json.encode(1, 'x')"));
        Assert.Contains("'indent' must be an integer", ChunkError("json.encode(1, {indent = 99})"));
    }

    [Fact]
    public void MarkersRefuseForeignMetatables()
    {
        Assert.Contains("json.object: the table already has a metatable", ChunkError("json.object(setmetatable({}, {}))"));
        Assert.Contains("json.array: expected a table or nothing, got number", ChunkError("json.array(5)"));
        Assert.Equal("[]", Chunk("return json.encode(json.array(json.object()))"));
    }

    // ------------------------------------------------------------------ parse

    [Fact]
    public void ParsesValuesWithTheirTypes()
    {
        Assert.Equal("ok", Chunk("""
            local v = json.parse('{"i": 9223372036854775807, "big": 9223372036854775808, "neg": -9223372036854775808,'
              .. ' "f": 1.0, "e": 1e2, "s": "x", "t": true, "n": false, "a": [1, "two", [3]], "o": {"k": "v"}}')
            assert(math.type(v.i) == "integer" and v.i == math.maxinteger)
            assert(math.type(v.big) == "float" and v.big == 2^63)
            assert(math.type(v.neg) == "integer" and v.neg == math.mininteger)
            assert(math.type(v.f) == "float" and v.f == 1)
            assert(math.type(v.e) == "float" and v.e == 100)
            assert(v.s == "x" and v.t == true and v.n == false)
            assert(#v.a == 3 and v.a[2] == "two" and v.a[3][1] == 3)
            assert(v.o.k == "v")
            assert(json.parse("42") == 42 and json.parse('"s"') == "s" and json.parse(" true ") == true)
            return "ok"
            """));
    }

    [Fact]
    public void DecodesUnicodeEscapes()
    {
        Assert.Equal("é😀\0x/", Chunk("""return json.parse('"\\u00e9\\ud83d\\ude00\\u0000x\\/"')"""));
        Assert.Equal("5", Chunk("""return tostring(#json.parse('"a\\u0000b\\n\\t"'))"""));
    }

    [Fact]
    public void NullHandlingIsExplicit()
    {
        // The last line checks that an object whose members were all null encodes as {}.
        Assert.Equal("{}", Chunk("""
            local o = json.parse('{"a": null, "b": 1}')
            assert(o.a == nil and o.b == 1, "null members are left out")
            local a = json.parse('[1, null, 3]')
            assert(#a == 3 and a[2] == json.null, "null elements keep the array's length")
            assert(json.parse("null") == nil)
            local s = json.parse('{"a": null, "l": [null]}', {null = json.null})
            assert(s.a == json.null and s.l[1] == json.null)
            assert(json.parse("null", {null = json.null}) == json.null)
            local f = json.parse('{"a": null}', {null = false})
            assert(f.a == false)
            return json.encode(json.parse('{"a": null}'))
            """));
    }

    [Fact]
    public void EmptyContainersSurviveARoundTrip()
    {
        Assert.Equal("""{"a":{},"b":[],"c":{}}""", Chunk("""return json.encode(json.parse('{"a":{},"b":[],"c":{"x":null}}'))"""));
        Assert.Equal("{}", Chunk("return json.encode(json.parse('{}'))"));
        Assert.Equal("[]", Chunk("return json.encode(json.parse('[]'))"));
    }

    [Fact]
    public void RoundTripsADocumentExactly()
    {
        const string Doc = """{"id":12345678901234,"name":"Zoë 🚀","nested":{"list":[1,2.5,-3,"x",true,false,null,{"deep":[[],{}]}],"score":-0.0001},"tags":["a","b"]}""";
        Assert.Equal(Doc, Chunk($"return json.encode(json.parse([==[{Doc}]==]))"));
    }

    [Theory]
    [InlineData("{\"a\":}", "at line 1 column 6")]
    [InlineData("{\n  \"a\": 1,\n  \"b\" 2\n}", "at line 3 column 7")]
    [InlineData("[1, 2", "at line 1 column 6")]
    [InlineData("[1] x", "at line 1 column 5")]
    [InlineData("", "at line 1 column 1")]
    [InlineData("{'a': 1}", "at line 1 column 2")]
    [InlineData("[1,]", "at line 1 column 4")]
    [InlineData("\"\\ud800\"", "at line 1 column 1")]
    [InlineData("[\"ok\", \"\xff\"]", "json.parse: invalid UTF-8 at line 1 column 9")]
    public void ParseErrorsGivePosition(string text, string expected)
    {
        var lua = "json.parse(\"" + string.Concat(text.Select(c => c < 128 && c != '"' && c != '\\' && c != '\n' ? c.ToString() : $"\\{(int)c}")) + "\")";
        var message = ChunkError(lua);
        Assert.Contains("json.parse: ", message);
        Assert.EndsWith(expected, message);
    }

    [Fact]
    public void ParseErrorMessagesAreReadable()
    {
        var message = ChunkError("json.parse('{\"a\" 1}')");
        Assert.Matches(@"^test:1: json\.parse: [a-z'].+ at line 1 column 6$", message);
        Assert.DoesNotContain("LineNumber", message);
    }

    [Fact]
    public void ParseLimitsDepth()
    {
        Assert.Equal("ok", Chunk("local s = string.rep('[', 1000) .. string.rep(']', 1000) assert(type(json.parse(s)) == 'table') return 'ok'"));
        Assert.Contains("json.parse:", ChunkError("json.parse(string.rep('[', 1001) .. string.rep(']', 1001))"));
        Assert.Contains("json.parse:", ChunkError("json.parse(string.rep('[', 100000))"));
    }

    [Fact]
    public void ParseRejectsNonStrings()
    {
        Assert.Contains("bad argument #1 to 'json.parse' (string expected, got table)", ChunkError("json.parse({})"));
        Assert.Contains("bad argument #2 to 'json.parse' (options table expected, got number)", ChunkError("json.parse('1', 5)"));
    }

    [Fact]
    public void ParseErrorsCanBeCaught()
    {
        Assert.Equal("false", Chunk("local ok = pcall(json.parse, '{') return tostring(ok)"));
        Assert.Equal("2", Chunk("local a = {pcall(json.parse, '[1,2]')} return tostring(#a[2])"));
    }

    [Fact]
    public void LeavesTheStackBalanced()
    {
        Assert.Equal("ok", Chunk("""
            for i = 1, 2000 do
              pcall(json.parse, '[1, 2, {"a": [')
              pcall(json.encode, {1, {2, {print}}})
              json.encode({a = {1, 2, {b = "c"}}})
              json.parse('{"a": [1, 2, {"b": "c"}]}')
            end
            return "ok"
            """));
        Assert.Equal(0, Vm.Main.Top);
    }
}
