namespace Assay.Runtime.Tests;

/// <summary>toml.parse / toml.encode.</summary>
public sealed class TomlTests : LuaHarness
{
    [Fact]
    public void ParsesTomlDocuments() => Ok(""""
        local doc = toml.parse([=[
        title = "TOML Example"
        int = 42
        neg = -17
        hex = 0xDEADBEEF
        float = 3.14
        exp = 5e+22
        bool = true
        dob = 1979-05-27T07:32:00-08:00
        utc = 1979-05-27T07:32:00Z
        day = 1979-05-27
        at = 07:32:00
        "quoted key" = "v"
        dotted.key = "dk"
        multi = """
        two
        lines"""
        literal = 'C:\path'

        [owner]
        name = "Tom"

        [database]
        ports = [ 8000, 8001, 8002 ]
        data = [ ["gamma", "delta"], [1, 2] ]
        inline = { x = 1, y = { z = 2 } }

        [servers.alpha]
        ip = "10.0.0.1"

        [servers.beta]
        ip = "10.0.0.2"

        [[products]]
        name = "Hammer"
        sku = 738594937

        [[products]]

        [[products]]
        name = "Nail"
        ]=])
        assert.eq(doc.title, "TOML Example")
        assert.eq(math.type(doc.int), "integer")
        assert.eq(doc.neg, -17)
        assert.eq(doc.hex, 3735928559)
        assert.eq(doc.float, 3.14)
        assert.eq(doc.exp, 5e22)
        assert.eq(doc.bool, true)
        -- dates and times are strings
        assert.eq(doc.dob, "1979-05-27T07:32:00-08:00")
        assert.eq(doc.utc, "1979-05-27T07:32:00Z")
        assert.eq(doc.day, "1979-05-27")
        assert.eq(doc.at, "07:32:00")
        assert.eq(doc["quoted key"], "v")
        assert.eq(doc.dotted.key, "dk")
        assert.eq(doc.multi, "two\nlines")
        assert.eq(doc.literal, "C:\\path")
        assert.eq(doc.owner.name, "Tom")
        assert.eq(doc.database.ports, {8000, 8001, 8002})
        assert.eq(doc.database.data[1][2], "delta")
        assert.eq(doc.database.inline.y.z, 2)
        assert.eq(doc.servers.alpha.ip, "10.0.0.1")
        assert.eq(doc.servers.beta.ip, "10.0.0.2")
        assert.eq(#doc.products, 3)
        assert.eq(doc.products[1].name, "Hammer")
        assert.eq(json.encode(doc.products[2]), "{}")
        assert.eq(doc.products[3].name, "Nail")
        assert.eq(json.encode(toml.parse("")), "{}")
        """");

    [Fact]
    public void EncodeRoundTrips() => Ok("""
        local value = {
          title = "x \"quoted\" \\ back\nnewline",
          n = 1, f = 2.5, whole = 3.0, b = false,
          list = {1, 2, 3}, mixed = {1, "a", {k = "v"}},
          server = {host = "h", port = 80, tls = {enabled = true}},
          deep = {a = {b = {c = 1}}},
          items = {{name = "a"}, {name = "b", tags = {"x"}}},
          ["odd key"] = "ok",
        }
        local text = toml.encode(value)
        local back = toml.parse(text)
        assert.eq(back, value)
        assert.eq(math.type(back.whole), "float")
        assert.contains(text, "[server]\n")
        assert.contains(text, "[[items]]\n")
        assert.contains(text, '"odd key" = "ok"')
        assert.eq(toml.encode({b = 1, a = "x"}), 'a = "x"\nb = 1\n')
        assert.eq(toml.encode({}), "")
        """);

    [Theory]
    [InlineData("toml.parse('a = ')", "toml.parse: ")]
    [InlineData("toml.parse('a = 1\\na = 2')", "toml.parse: duplicate key \"a\" at line 2")]
    [InlineData("toml.encode({1, 2})", "toml.encode: the top level must be a table with string keys")]
    [InlineData("toml.encode('x')", "toml.encode: the top level must be a table, got string")]
    [InlineData("toml.encode({a = json.null})", "toml.encode: TOML has no null value (at $.a)")]
    [InlineData("toml.encode({f = print})", "toml.encode: cannot convert a function value at $.f")]
    public void Errors(string code, string message) => Assert.Contains(message, Error(code));

    [Fact]
    public void ParseErrorsCarryPositions() =>
        Assert.Matches(@"toml\.parse: .* at line 2 column \d+", Error("toml.parse('a = 1\\nb = = 2')"));
}
