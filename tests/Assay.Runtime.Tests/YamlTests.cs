namespace Assay.Runtime.Tests;

/// <summary>yaml.parse / parse_all / encode.</summary>
public sealed class YamlTests : LuaHarness
{
    [Fact]
    public void ParsesTheCoreSchema() => Ok("""
        local doc = yaml.parse([[
        name: assay
        version: 3
        ratio: 0.5
        big: 1e3
        hex: 0x1F
        octal: 0o17
        on: true
        yes_is_a_string: yes
        nothing: ~
        empty:
        quoted: "123"
        single: 'true'
        inf: .inf
        list:
          - a
          - 2
          - null
        nested: {x: 1, y: [1, 2]}
        text: |
          line one
          line two
        folded: >
          a
          b
        ]])
        assert.eq(doc.name, "assay")
        assert.eq(math.type(doc.version), "integer")
        assert.eq(doc.version, 3)
        assert.eq(doc.ratio, 0.5)
        assert.eq(math.type(doc.big), "float")
        assert.eq(doc.hex, 31)
        assert.eq(doc.octal, 15)
        assert.eq(doc.on, true)
        assert.eq(doc.yes_is_a_string, "yes")
        assert.eq(doc.nothing, nil)
        assert.eq(doc.empty, nil)
        assert.eq(doc.quoted, "123")
        assert.eq(doc.single, "true")
        assert.eq(doc.inf, math.huge)
        assert.eq(#doc.list, 3)
        assert.eq(doc.list[2], 2)
        assert.eq(doc.list[3], json.null)
        assert.eq(doc.nested.y[2], 2)
        assert.eq(doc.text, "line one\nline two\n")
        assert.eq(doc.folded, "a b\n")
        assert.eq(yaml.parse("42"), 42)
        assert.eq(yaml.parse(""), nil)
        assert.eq(yaml.parse("[]"), {})
        assert.eq(json.encode(yaml.parse("{}")), "{}")
        """);

    [Fact]
    public void AnchorsAliasesAndMergeKeys() => Ok("""
        local doc = yaml.parse([[
        defaults: &defaults
          adapter: postgres
          host: localhost
        development:
          <<: *defaults
          database: dev
          host: devhost
        list: &l [1, 2]
        copy: *l
        ]])
        assert.eq(doc.development.adapter, "postgres")
        assert.eq(doc.development.host, "devhost")
        assert.eq(doc.development.database, "dev")
        assert.eq(doc.copy, {1, 2})
        """);

    [Fact]
    public void ParseAllReadsEveryDocument() => Ok("""
        local docs = yaml.parse_all("kind: A\n---\nkind: B\n---\n---\n- 1\n")
        assert.eq(#docs, 4)
        assert.eq(docs[1].kind, "A")
        assert.eq(docs[2].kind, "B")
        assert.eq(docs[3], json.null)
        assert.eq(docs[4], {1})
        local _, e = pcall(yaml.parse, "a: 1\n---\nb: 2\n")
        assert.contains(e, "yaml.parse: the input holds 2 documents (use yaml.parse_all)")
        assert.eq(#yaml.parse_all(""), 0)
        """);

    [Fact]
    public void EncodeRoundTrips() => Ok("""
        local value = {
          name = "assay", n = 3, f = 1.5, whole = 2.0, yes = true, no = false,
          list = {1, "two", {three = 3}}, empty_list = {}, empty_map = json.object(),
          tricky = {"true", "123", "null", "", " padded ", "a: b", "- x", "#hash", "multi\nline\n", "1.0", "~"},
          ["key with spaces"] = "v", unicode = "Zoë ✓",
        }
        local text = yaml.encode(value)
        local back = yaml.parse(text)
        assert.eq(back, value)
        assert.eq(math.type(back.whole), "float")
        assert.eq(math.type(back.n), "integer")
        assert.eq(json.encode(back.empty_map), "{}")
        -- keys come out sorted, plain scalars stay plain
        assert.eq(yaml.encode({b = 1, a = "x"}), "a: x\nb: 1\n")
        assert.eq(yaml.encode({1, 2}), "- 1\n- 2\n")
        assert.eq(yaml.encode("true"), '"true"\n')
        -- binary data survives as !!binary
        local bin = "\0\255\1"
        assert.eq(yaml.parse(yaml.encode({data = bin})).data, bin)
        assert.contains(yaml.encode({data = bin}), "!!binary")
        """);

    [Theory]
    [InlineData("yaml.parse('a: [1, 2')", "yaml.parse: ")]
    [InlineData("yaml.parse('a: 1\\na: 2')", "yaml.parse: duplicate key \"a\" at line 2")]
    [InlineData("yaml.parse('? [1]\\n: x')", "yaml.parse: complex mapping keys")]
    [InlineData("yaml.parse('a: *nope')", "yaml.parse: ")]
    [InlineData("yaml.parse('x: !!int abc')", "yaml.parse: invalid !!int \"abc\"")]
    [InlineData("yaml.encode({f = print})", "yaml.encode: cannot convert a function value at $.f")]
    [InlineData("local t = {} t.self = t yaml.encode(t)", "yaml.encode: circular reference")]
    public void Errors(string code, string message) => Assert.Contains(message, Error(code));

    [Fact]
    public void ErrorsCarryPositions() =>
        Assert.Matches(@"yaml\.parse: .* line 2 column \d+", Error("yaml.parse('a: 1\\nb: [1, 2\\nc: 3')"));

    [Fact]
    public void BillionLaughsIsBounded()
    {
        var lines = new List<string> { "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (int i = 1; i < 9; i++)
            lines.Add($"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        var doc = string.Join("\\n", lines);
        Assert.Contains("aliases expand to more than", Error($"yaml.parse(\"{doc}\")"));
    }
}
