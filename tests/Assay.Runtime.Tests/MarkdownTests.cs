namespace Assay.Runtime.Tests;

/// <summary>markdown.to_html.</summary>
public sealed class MarkdownTests : LuaHarness
{
    [Fact]
    public void CommonMarkAndExtensions() => Ok("""
        assert.eq(markdown.to_html("# Title\n\nSome *em* and **strong**."), "<h1>Title</h1>\n<p>Some <em>em</em> and <strong>strong</strong>.</p>\n")
        local t = markdown.to_html("| a | b |\n|---|---|\n| 1 | 2 |\n")
        assert.contains(t, "<table>")
        assert.contains(t, "<td>1</td>")
        assert.contains(markdown.to_html("~~gone~~"), "<del>gone</del>")
        assert.contains(markdown.to_html("- [x] done\n- [ ] todo\n"), 'type="checkbox"')
        assert.contains(markdown.to_html("see https://example.com now"), '<a href="https://example.com">')
        assert.contains(markdown.to_html("```lua\nprint(1)\n```\n"), '<code class="language-lua">')
        assert.eq(markdown.to_html("## Hello World"), "<h2>Hello World</h2>\n")
        assert.eq(markdown.to_html("## Hello World", {heading_ids = true}), '<h2 id="hello-world">Hello World</h2>\n')
        """);

    [Fact]
    public void RawHtmlPassesByDefaultAndIsNeutralisedWhenSafe() => Ok("""
        local src = "<script>alert(1)</script>\n\nhi <b onclick=x>there</b> [link](javascript:alert(1)) <javascript:alert(2)>"
        local raw = markdown.to_html(src)
        assert.contains(raw, "<script>alert(1)</script>")
        assert.contains(raw, "<b onclick=x>")
        local safe = markdown.to_html(src, {safe = true})
        assert.eq(safe:find("<script>", 1, true), nil)
        assert.eq(safe:find("<b onclick", 1, true), nil)
        assert.contains(safe, "&lt;script&gt;")
        assert.eq(safe:find("javascript:", 1, true), nil)
        assert.eq(markdown.to_html(src, {raw_html = false}), safe)
        assert.contains(markdown.to_html("![i](data:image/png;base64,AAAA)", {safe = true}), 'src="data:image/png')
        assert.contains(markdown.to_html("[x](data:text/html,<script>)", {safe = true}), 'href="#"')
        local _, e = pcall(markdown.to_html, "x", "safe")
        assert.contains(e, "bad argument #2 to 'markdown.to_html' (options table expected, got string)")
        """);
}
