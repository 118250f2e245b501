namespace Assay.Runtime.Tests;

/// <summary>base64, hex and url.</summary>
public sealed class EncodingTests : LuaHarness
{
    // RFC 4648 §10 test vectors
    [Theory]
    [InlineData("", "")]
    [InlineData("f", "Zg==")]
    [InlineData("fo", "Zm8=")]
    [InlineData("foo", "Zm9v")]
    [InlineData("foob", "Zm9vYg==")]
    [InlineData("fooba", "Zm9vYmE=")]
    [InlineData("foobar", "Zm9vYmFy")]
    public void Base64Rfc4648Vectors(string plain, string encoded)
    {
        Assert.Equal(encoded, Eval($"base64.encode('{plain}')"));
        Assert.Equal(plain, Eval($"base64.decode('{encoded}')"));
        Assert.Equal(encoded.TrimEnd('='), Eval($"base64.url_encode('{plain}')"));
        Assert.Equal(plain, Eval($"base64.url_decode('{encoded.TrimEnd('=')}')"));
    }

    [Fact]
    public void Base64IsBinarySafe() => Ok("""
        local all = {}
        for i = 0, 255 do all[#all + 1] = string.char(i) end
        local bytes = table.concat(all)
        assert.eq(base64.decode(base64.encode(bytes)), bytes)
        assert.eq(base64.url_decode(base64.url_encode(bytes)), bytes)
        assert.eq(base64.encode("\255\254\253"), "//79")
        assert.eq(base64.url_encode("\255\254\253"), "__79")
        assert.eq(base64.decode("//79"), "\255\254\253")
        -- padding is optional for url_decode and accepted
        assert.eq(base64.url_decode("Zg=="), "f")
        -- line-wrapped input (PEM bodies) decodes
        assert.eq(base64.decode("Zm9v\nYmFy\n"), "foobar")
        """);

    [Theory]
    [InlineData("base64.decode('Zm9v!')", "base64.decode: invalid character '!' at position 5")]
    [InlineData("base64.decode('Z')", "base64.decode: truncated input")]
    [InlineData("base64.decode('Zg=')", "base64.decode: incorrect padding")]
    [InlineData("base64.decode('Zh==')", "base64.decode: non-zero trailing bits")]
    [InlineData("base64.decode('__79')", "use base64.url_decode")]
    [InlineData("base64.url_decode('//79')", "base64.url_decode: invalid character '/'")]
    [InlineData("base64.encode({})", "bad argument #1 to 'base64.encode' (string expected, got table)")]
    public void Base64MalformedInput(string call, string message) =>
        Assert.Contains(message, Error(call));

    [Fact]
    public void Hex() => Ok("""
        assert.eq(hex.encode("\0\1\127\128\255abc"), "00017f80ff616263")
        assert.eq(hex.decode("00017F80ff616263"), "\0\1\127\128\255abc")
        assert.eq(hex.encode(""), "")
        assert.eq(hex.decode(""), "")
        local e1 = select(2, pcall(hex.decode, "abc"))
        assert.contains(e1, "hex.decode: odd number of digits (3)")
        local e2 = select(2, pcall(hex.decode, "zz"))
        assert.contains(e2, "hex.decode: invalid hex digit 'z' at position 1")
        """);

    [Fact]
    public void UrlEncodeDecode() => Ok("""
        assert.eq(url.encode("a b&c=d/é~_.-"), "a%20b%26c%3Dd%2F%C3%A9~_.-")
        assert.eq(url.decode("a%20b%26c%3Dd%2F%C3%A9~_.-"), "a b&c=d/é~_.-")
        assert.eq(url.decode("a+b"), "a+b")
        assert.eq(url.decode("a+b", true), "a b")
        assert.eq(url.decode("%ff%00"), "\255\0")
        local _, e = pcall(url.decode, "abc%2")
        assert.contains(e, "url.decode: invalid percent-encoding at position 4")
        local _, e2 = pcall(url.decode, "%zz")
        assert.contains(e2, "url.decode: invalid percent-encoding at position 1")
        """);

    [Fact]
    public void UrlParse() => Ok("""
        local u = url.parse("HTTPS://user:p%40ss@Example.COM:8443/a/b%20c?x=1&y=two+words&x=2&flag#frag")
        assert.eq(u.scheme, "https")
        assert.eq(u.user, "user")
        assert.eq(u.password, "p@ss")
        assert.eq(u.host, "example.com")
        assert.eq(u.port, 8443)
        assert.eq(u.path, "/a/b%20c")
        assert.eq(u.query, "x=1&y=two+words&x=2&flag")
        assert.eq(u.fragment, "frag")
        assert.eq(u.params.x, "1")
        assert.eq(u.params.y, "two words")
        assert.eq(u.params.flag, "")
        assert.eq(#u.query_pairs, 4)
        assert.eq(u.query_pairs[3][1], "x")
        assert.eq(u.query_pairs[3][2], "2")

        local d = url.parse("http://example.com")
        assert.eq(d.port, 80)
        assert.eq(d.path, "")
        assert.eq(d.query, nil)

        local v6 = url.parse("http://[::1]:8080/x")
        assert.eq(v6.host, "::1")
        assert.eq(v6.port, 8080)

        local rel = url.parse("/just/a/path?q=1")
        assert.eq(rel.scheme, nil)
        assert.eq(rel.host, nil)
        assert.eq(rel.path, "/just/a/path")
        assert.eq(rel.params.q, "1")

        local m = url.parse("mailto:joe@example.com")
        assert.eq(m.scheme, "mailto")
        assert.eq(m.path, "joe@example.com")

        local _, e = pcall(url.parse, "http://host:99999/")
        assert.contains(e, "url.parse: invalid port \"99999\"")
        """);

    [Fact]
    public void UrlBuildQuery() => Ok("""
        assert.eq(url.build_query({b = "x y", a = 1, c = true, ["k&"] = "v=w"}), "a=1&b=x%20y&c=true&k%26=v%3Dw")
        assert.eq(url.build_query({tag = {"a", "b"}}), "tag=a&tag=b")
        assert.eq(url.build_query({}), "")
        local _, e = pcall(url.build_query, {a = {b = {}}})
        assert.contains(e, "url.build_query: value of 'a' must be")
        -- round trip through parse
        local q = url.build_query({name = "Zoë & co", n = 3})
        local p = url.parse("http://h/?" .. q).params
        assert.eq(p.name, "Zoë & co")
        assert.eq(p.n, "3")
        """);
}
