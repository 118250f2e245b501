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

    [Fact]
    public void SkipsALeadingByteOrderMark()
    {
        Assert.Equal("ok", Chunk("""
            assert(json.parse("\239\187\191[1]")[1] == 1)
            assert(json.parse("\239\187\191 \"x\"") == "x")
            assert(not pcall(json.parse, "\239\187\191"), "a BOM alone is empty input")
            return "ok"
            """));
    }

    [Fact]
    public void NumbersReadExactlyLikeLuaDoes()
    {
        // The decoder converts short decimals without strtod (one exact IEEE operation); every form
        // must still give the correctly rounded double that Lua's own tonumber gives.
        Assert.Equal("ok", Chunk("""
            local seed = 7
            local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
            local function digits(n) local t = {} for i = 1, n do t[i] = tostring(rand(10)) end return table.concat(t) end
            local forms = {}
            for _ = 1, 3000 do
              local int = tostring(rand(9) + 1) .. digits(rand(20))
              local s = (rand(2) == 0 and "-" or "") .. int
              if rand(2) == 0 then s = s .. "." .. digits(rand(25) + 1) end
              if rand(3) == 0 then s = s .. (rand(2) == 0 and "e" or "E") .. ({"", "+", "-"})[rand(3) + 1] .. tostring(rand(330)) end
              forms[#forms + 1] = s
            end
            for _, s in ipairs({"0.1", "0.2", "0.30000000000000004", "1e22", "1e23", "9007199254740993", "9007199254740993.0",
                                "123456789012345.6", "1234567890123456.7", "4.9e-324", "2.2250738585072011e-308",
                                "1.7976931348623157e308", "0.000001", "0.0000000000000000000000001", "-0.0", "1e-400"}) do
              forms[#forms + 1] = s
            end
            for _, s in ipairs(forms) do
              local want = tonumber(s)
              if want ~= math.huge and want ~= -math.huge then
                local got = json.parse(s)
                if math.type(want) == "integer" then
                  assert(math.type(got) == "integer" and got == want, s .. " gave " .. tostring(got))
                else
                  assert(math.type(got) == "float" and string.format("%a", got) == string.format("%a", want),
                    s .. ": json " .. string.format("%a", got) .. " lua " .. string.format("%a", want))
                end
              end
            end
            assert(math.type(json.parse("-0")) == "integer" and json.parse("-0") == 0)
            assert(math.type(json.parse("1234567890123456789")) == "integer")
            assert(math.type(json.parse("12345678901234567890")) == "float")
            assert(json.parse("[0.5, -2.5e-3, 1E+2]")[3] == 100.0)
            return "ok"
            """));
    }

    [Fact]
    public void SiblingSizeHintsDoNotLeakBetweenContainers()
    {
        // Tables are pre-sized from the last container closed at the same depth; a smaller or empty
        // sibling after a large one must still come out with exactly its own contents.
        Assert.Equal("""[[1,2,3,4,5,6,7,8],[1],[],{"a":1,"b":2,"c":3,"d":4},{"x":1},{},[null,2],{}]""", Chunk("""
            local v = json.parse('[[1,2,3,4,5,6,7,8],[1],[],{"a":1,"b":2,"c":3,"d":4},{"x":1},{},[null,2],{"y":null}]')
            assert(#v[1] == 8 and #v[2] == 1 and #v[3] == 0 and v[2][2] == nil)
            local n = 0 for _ in pairs(v[5]) do n = n + 1 end
            assert(n == 1 and v[5].x == 1)
            assert(next(v[6]) == nil and getmetatable(v[6]) ~= nil, "{} is marked as an object")
            assert(next(v[3]) == nil and getmetatable(v[3]) == nil, "[] is a plain table")
            return json.encode(v)
            """));
        Assert.Equal("ok", Chunk("""
            local parts = {}
            for i = 1, 200 do parts[i] = string.rep("1,", i % 70) .. "0" end
            local v = json.parse("[[" .. table.concat(parts, "],[") .. "]]")
            for i = 1, 200 do assert(#v[i] == i % 70 + 1, "array " .. i) end
            return "ok"
            """));
    }

    [Fact]
    public void DecodesLongEscapedStrings()
    {
        // Escaped strings longer than the decoder's stack buffer go through a growable scratch buffer.
        Assert.Equal("ok", Chunk("""
            local body = string.rep("ab\\n\\u00e9\\ud83d\\ude00\\\"", 500)
            local want = string.rep("ab\né😀\"", 500)
            local v = json.parse('["' .. body .. '", "short\\t", "' .. body .. body .. '"]')
            assert(v[1] == want and v[2] == "short\t" and v[3] == want .. want)
            assert(#json.parse('"' .. string.rep("x", 100000) .. '"') == 100000)
            return "ok"
            """));
    }

    [Theory]
    [InlineData("{\"a\" 1}", "unexpected '1', expected ':' after a property name at line 1 column 6")]
    [InlineData("[1 2]", "unexpected '2', expected ',' or ']' at line 1 column 4")]
    [InlineData("[1,]", "trailing comma in an array at line 1 column 4")]
    [InlineData("{\"a\":1,}", "trailing comma in an object at line 1 column 8")]
    [InlineData("[01]", "invalid number: leading zeros are not allowed at line 1 column 3")]
    [InlineData("\"\\ud800\"", "invalid \\u escape: a high surrogate without a low surrogate after it at line 1 column 1")]
    [InlineData("\"\\udc00\"", "invalid \\u escape: a low surrogate without a high surrogate before it at line 1 column 1")]
    [InlineData("\"\\u12g4\"", "unexpected 'g', expected 4 hex digits after \\u at line 1 column 6")]
    [InlineData("[\"a\\qb\"]", "unexpected 'q', expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) at line 1 column 5")]
    [InlineData("[\"a\tb\"]", "unexpected 0x09, control characters must be escaped inside a string at line 1 column 4")]
    [InlineData("{\"é\": é}", "unexpected 'é', expected a value at line 1 column 8")]
    [InlineData("[tru]", "invalid literal (expected true) at line 1 column 2")]
    [InlineData("[nul", "unexpected end of input at line 1 column 5")]
    [InlineData("  ", "empty input at line 1 column 3")]
    [InlineData("{\"a\": [1, {\"b\": ", "unexpected end of input at line 1 column 17")]
    [InlineData("1 2", "unexpected '2', expected the end of the input after the JSON value at line 1 column 3")]
    public void ParseErrorsSayWhatWasExpected(string text, string expected) =>
        Assert.EndsWith("json.parse: " + expected, ChunkError("json.parse(" + LuaLiteral(text) + ")"));

    static string LuaLiteral(string text) =>
        "\"" + string.Concat(System.Text.Encoding.UTF8.GetBytes(text).Select(b => b >= 32 && b < 127 && b != '"' && b != '\\' ? ((char)b).ToString() : $"\\{b}")) + "\"";

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
        Assert.EndsWith("json.parse: nesting deeper than 1000 levels at line 1 column 1001",
            ChunkError("json.parse(string.rep('[', 1001) .. string.rep(']', 1001))"));
        Assert.EndsWith("json.parse: nesting deeper than 1000 levels at line 1 column 5001",
            ChunkError("json.parse(string.rep('{\"a\":', 1001) .. '1' .. string.rep('}', 1001))"));
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
