using System.Diagnostics;

namespace Assay.Runtime.Tests;

/// <summary>regex: (text, pattern) order, groups, named groups, byte offsets, replace, split, ReDoS.</summary>
public sealed class RegexTests : LuaHarness
{
    [Fact]
    public void MatchAndFind() => Ok("""
        assert.is_true(regex.match("hello world", "w.r"))
        assert.is_false(regex.match("hello", "^w"))
        assert.is_true(regex.match("ABC", "(?i)abc"))
        local m = regex.find("key: value-42", "(\\w+): (?<val>[a-z]+)-(\\d+)")
        assert.eq(m.match, "key: value-42")
        assert.eq(m.start, 1)
        assert.eq(m["end"], 13)
        assert.eq(m.groups[1], "key")
        assert.eq(m.groups[3], "42")
        assert.eq(m.named.val, "value")
        assert.eq(regex.find("abc", "x"), nil)
        -- optional group that did not take part: a hole
        local o = regex.find("ac", "a(b)?(c)")
        assert.eq(o.groups[1], nil)
        assert.eq(o.groups[2], "c")
        -- offsets are 1-based byte positions, like string.find, also after multibyte text
        local u = regex.find("héllo wörld", "w\\S+")
        assert.eq(u.match, "wörld")
        assert.eq(u.start, 8)
        assert.eq(u["end"], 13)
        assert.eq(("héllo wörld"):sub(u.start, u["end"]), "wörld")
        -- init: start searching at a byte offset
        local second = regex.find("a1 b2 c3", "[a-z]\\d", 3)
        assert.eq(second.match, "b2")
        assert.eq(second.start, 4)
        assert.eq(regex.find("abc", "c", 10), nil)
        """);

    [Fact]
    public void FindAll() => Ok("""
        assert.eq(regex.find_all("a1 b22 c333", "\\d+"), {"1", "22", "333"})
        assert.eq(regex.find_all("none", "\\d"), {})
        local d = regex.find_all("x=1, y=2", "(?<k>\\w)=(\\d)", {groups = true})
        assert.eq(#d, 2)
        assert.eq(d[2].named.k, "y")
        assert.eq(d[2].groups[2], "2")
        assert.eq(d[2].start, 6)
        assert.eq(regex.find_all("aaaa", "a", {limit = 2}), {"a", "a"})
        """);

    [Fact]
    public void Replace() => Ok("""
        assert.eq(regex.replace("2024-01-15", "(\\d+)-(\\d+)-(\\d+)", "$3/$2/$1"), "15/01/2024")
        assert.eq(regex.replace("john smith", "(?<first>\\w+) (?<last>\\w+)", "${last}, ${first}"), "smith, john")
        local s, n = regex.replace("a.b.c", "\\.", "-")
        assert.eq(s, "a-b-c")
        assert.eq(n, 2)
        assert.eq(regex.replace_first("a.b.c", "\\.", "-"), "a-b.c")
        assert.eq(regex.replace("cost", "o", "$$"), "c$st")
        -- groups are numbered by their opening parenthesis, named or not (as in PCRE and Rust)
        assert.eq(regex.replace("k: v-4", "(\\w+): (?<val>[a-z]+)-(\\d+)", "$3 $2 $val ${1}"), "4 v v k")
        assert.eq(regex.replace("ab", "(?P<x>a)(b)", "$2$x"), "ba")
        assert.eq(regex.find("ab", "(?P<x>a)(b)").named.x, "a")
        assert.eq(regex.replace("a", "a", "$9|$"), "|$")
        -- function and table replacements
        assert.eq(regex.replace("a1b22", "\\d+", function(m) return "<" .. #m .. ">" end), "a<1>b<2>")
        assert.eq(regex.replace("hi NAME, bye NAME", "NAME", {NAME = "Zoë"}), "hi Zoë, bye Zoë")
        assert.eq(regex.replace_first("x1x2", "\\d", function(m, t) return "[" .. t.start .. "]" end), "x[2]x2")
        assert.eq(regex.replace("héé", "", function() return "-" end), "-h-é-é-")
        """);

    [Fact]
    public void Split() => Ok("""
        assert.eq(regex.split("a, b,c ,  d", "\\s*,\\s*"), {"a", "b", "c", "d"})
        assert.eq(regex.split("a1b2c3", "\\d"), {"a", "b", "c", ""})
        assert.eq(regex.split("abc", ","), {"abc"})
        assert.eq(regex.split("", ","), {""})
        assert.eq(regex.split("a:b:c:d", ":", 2), {"a", "b:c:d"})
        -- groups in the pattern are not spliced into the result
        assert.eq(regex.split("a1b", "(\\d)"), {"a", "b"})
        """);

    [Fact]
    public void BinaryTextAndCompile() => Ok("""
        local bin = "\255\0abc\254"
        local m = regex.find(bin, "abc")
        assert.eq(m.start, 3)
        assert.eq(regex.replace(bin, "b", "B"), "\255\0aBc\254")
        local re = regex.compile("(\\d+)")
        assert.eq(re:find("ab12").groups[1], "12")
        assert.eq(re:replace("a1b2", "#"), "a#b#")
        assert.eq(regex.escape("a.b*c"), "a\\.b\\*c")
        local ok, e = pcall(regex.compile, "(")
        assert.contains(e, "invalid pattern")
        """);

    [Theory]
    [InlineData("regex.match('x', '(')", "regex.match: invalid pattern:")]
    [InlineData("regex.find('x', '[z-a]')", "regex.find: invalid pattern:")]
    [InlineData("regex.replace('x', '(', 'y')", "regex.replace_first: invalid pattern:")]
    [InlineData("regex.split('x', ',', -1)", "regex.split: limit must be >= 0")]
    [InlineData("regex.find(nil, 'x')", "bad argument #1 to 'regex.find' (string expected, got nil)")]
    public void Errors(string call, string message)
    {
        // regex.replace with a string replacement calls the native replace_first/replace directly
        var error = Error(call);
        Assert.Contains(message.Replace("regex.replace_first", call.StartsWith("regex.replace(") ? "regex.replace" : "regex.replace_first"), error);
    }

    [Fact]
    public void CatastrophicPatternIsLinear()
    {
        var sw = Stopwatch.StartNew();
        Ok("""assert.is_false(regex.match(string.rep("a", 5000) .. "!", "^(a+)+$"))""");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
    }

    [Fact]
    public void BacktrackingFallbackIsBounded()
    {
        // look-ahead needs the backtracking engine; a catastrophic one must end with an error
        Ok("""assert.is_true(regex.match("foobar", "foo(?=bar)"))""");
        var sw = Stopwatch.StartNew();
        var error = Error("""regex.match(string.rep("a", 40) .. "!", "^(?=x|y|z|)(a+)+$")""");
        Assert.Contains("regex.match: pattern took longer than", error);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }
}
