using Assay.Runtime.Templates;

namespace Assay.Runtime.Tests;

/// <summary>The template engine on its own: errors with template:line, loader confinement, limits.</summary>
public sealed class TemplateEngineTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("assay-tpl-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    static string R(string text, object? vars = null, TemplateLimits? limits = null) => TemplateEngine.RenderString(text, vars, limits);

    static string Err(Func<string> f) => Assert.ThrowsAny<TemplateException>(() => f()).Message;

    string File(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        System.IO.File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void RendersWithClrValues()
    {
        var vars = new OrderedDictionary<string, object?> { ["name"] = "Ann", ["n"] = 3L, ["xs"] = new List<object?> { 1L, 2.5, null } };
        Assert.Equal("Ann 3 [1, 2.5, None]", R("{{ name }} {{ n }} {{ xs }}", vars));
        Assert.Equal("None", R("{{ v }}", new OrderedDictionary<string, object?> { ["v"] = Assay.Lua.Values.LuaNull.Value }));
    }

    [Theory]
    [InlineData("a\n{{ 1 + }}", "<string>:2: unexpected end of print statement")]
    [InlineData("a\nb\n{{ x|nope }}", "<string>:3: no filter named 'nope'")]
    [InlineData("{{ x is nope }}", "<string>:1: no test named 'nope'")]
    [InlineData("{% if x %}", "<string>:1: unexpected end of template; expected 'elif' or 'else' or 'endif'")]
    [InlineData("\n\n{% endfor %}", "<string>:3: unexpected 'endfor' (no open block expects it)")]
    [InlineData("{{ missing.attr }}", "<string>:1: 'missing' is undefined")]
    [InlineData("\n{{ 1 / 0 }}", "<string>:2: division by zero")]
    [InlineData("{{ 'a' + 1 }}", "<string>:1: unsupported operand type(s) for +: 'str' and 'int'")]
    [InlineData("{% frobnicate %}", "<string>:1: unknown tag 'frobnicate'")]
    [InlineData("{{ 'abc }}", "<string>:1: unexpected end of string")]
    public void ErrorsNameTemplateAndLine(string text, string message) => Assert.Equal(message, Err(() => R(text)));

    [Fact]
    public void ErrorsInIncludedTemplatesNameThatTemplate()
    {
        File("parts/row.j2", "ok\n{{ x.y.z }}");
        var main = File("main.j2", "{% include 'parts/row.j2' %}");
        Assert.Equal("parts/row.j2:2: 'x' is undefined", Err(() => TemplateEngine.RenderFile(main, null)));
    }

    [Theory]
    [InlineData("../secret.txt")]
    [InlineData("sub/../../secret.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("..\\secret.txt")]
    public void IncludesCannotLeaveTheTemplateFolder(string name)
    {
        System.IO.File.WriteAllText(Path.Combine(Path.GetDirectoryName(_dir)!, "secret.txt"), "SECRET");
        var main = File("tpl/main.j2", $"{{% include '{name}' %}}");
        Assert.Contains("not found", Err(() => TemplateEngine.RenderFile(main, null)));
    }

    [Fact]
    public void SymlinksOutOfTheFolderAreRefused()
    {
        var outside = Path.Combine(_dir, "outside.txt");
        System.IO.File.WriteAllText(outside, "SECRET");
        var main = File("tpl/main.j2", "{% include 'link.txt' %}");
        System.IO.File.CreateSymbolicLink(Path.Combine(_dir, "tpl", "link.txt"), outside);
        Assert.Contains("outside the template folder", Err(() => TemplateEngine.RenderFile(main, null)));
    }

    [Fact]
    public void RenderStringHasNoLoader() =>
        Assert.Contains("render_string has no template folder", Err(() => R("{% include 'x.j2' %}")));

    [Fact]
    public void AutoescapeFollowsTheExtension()
    {
        var vars = new OrderedDictionary<string, object?> { ["v"] = "<b>&'\"" };
        Assert.Equal("&lt;b&gt;&amp;&#39;&#34;", TemplateEngine.RenderFile(File("a.html", "{{ v }}"), vars));
        Assert.Equal("&lt;b&gt;&amp;&#39;&#34;", TemplateEngine.RenderFile(File("a.xml", "{{ v }}"), vars));
        Assert.Equal("<b>&'\"", TemplateEngine.RenderFile(File("a.txt", "{{ v }}"), vars));
        Assert.Equal("<b>&'\"", R("{{ v }}", vars));
        Assert.Equal("&lt;b&gt;&amp;&#39;&#34;|<b>&'\"", R("{{ v|e }}|{{ v|safe }}", vars));
    }

    [Fact]
    public void RunawayRendersHitTheTimeout()
    {
        var limits = new TemplateLimits { Timeout = TimeSpan.FromMilliseconds(200) };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var msg = Err(() => R("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", null, limits));
        Assert.Contains("render took longer than 0.2 s", msg);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void MacroAndIncludeRecursionIsBounded()
    {
        Assert.Contains("recursion too deep", Err(() => R("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")));
        var self = File("self.j2", "x{% include 'self.j2' %}");
        Assert.Contains("recursion too deep", Err(() => TemplateEngine.RenderFile(self, null)));
    }

    [Fact]
    public void OutputIsBounded()
    {
        var limits = new TemplateLimits { MaxOutputChars = 1000 };
        Assert.Contains("larger than 1000", Err(() => R("{{ 'x' * 5000 }}", null, limits)));
        Assert.Contains("larger than 1000", Err(() => R("{% for i in range(2000) %}ab{% endfor %}", null, limits)));
        Assert.Contains("larger than 1000", Err(() => R("{{ range(100000)|length }}", null, limits)));
    }

    [Fact]
    public void DeepNestingIsAnErrorNotACrash()
    {
        Assert.Contains("nest", Err(() => R("{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}")));
        Assert.Contains("nest", Err(() => R(string.Concat(Enumerable.Repeat("{% if 1 %}", 3000)) + string.Concat(Enumerable.Repeat("{% endif %}", 3000)))));
        Assert.Contains("nest", Err(() => R("{{ " + string.Concat(Enumerable.Repeat("not ", 5000)) + "1 }}")));
    }

    [Fact]
    public void EveryBuiltinFilterAndTestIsKnownByName()
    {
        // Jinja2 3.1's names (the filter and test tables are the only lists of them)
        string[] filters =
        [
            "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
            "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "items",
            "join", "last", "length", "list", "lower", "map", "max", "min", "random", "reject", "rejectattr",
            "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags",
            "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "wordcount", "wordwrap", "xmlattr",
        ];
        string[] tests =
        [
            "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter",
            "float", "ge", "gt", "greaterthan", "in", "integer", "iterable", "le", "lessthan", "lower", "lt",
            "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "test", "true", "undefined",
            "upper", "==", "!=", "<", "<=", ">", ">=",
        ];
        foreach (var f in filters) Assert.True(R($"{{{{ '{f}' is filter }}}}") == "True", f);
        foreach (var t in tests) Assert.True(R($"{{{{ '{t}' is test }}}}") == "True", t);
        Assert.Equal("False False", R("{{ 'nope' is filter }} {{ 'nope' is test }}"));
    }

    [Fact]
    public void BlocksAndInheritanceFromFiles()
    {
        File("base.html", "<t>{% block t %}base{% endblock %}</t>");
        var page = File("page.html", "{% extends 'base.html' %}{% block t %}{{ super() }}+{{ v }}{% endblock %}");
        Assert.Equal("<t>base+&lt;x&gt;</t>", TemplateEngine.RenderFile(page, new OrderedDictionary<string, object?> { ["v"] = "<x>" }));
    }
}

/// <summary>template.render / template.render_string from Lua.</summary>
public sealed class TemplateModuleTests : LuaHarness
{
    [Fact]
    public void RenderString() =>
        Assert.Equal("Hi Ann: 1,2,3 x=1.5", Eval("template.render_string('Hi {{ name }}: {{ xs|join(\",\") }} x={{ t.x }}', {name = 'Ann', xs = {1, 2, 3}, t = {x = 1.5}})"));

    [Fact]
    public void RenderStringWithoutVars() => Assert.Equal("3", Eval("template.render_string('{{ 1 + 2 }}')"));

    [Fact]
    public void RenderFileEscapesHtml()
    {
        var dir = Directory.CreateTempSubdirectory("assay-tpl-lua-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "base.html"), "<p>{% block body %}{% endblock %}</p>\n");
            File.WriteAllText(Path.Combine(dir, "page.html"), "{% extends 'base.html' %}{% block body %}{{ user }}{% endblock %}\n");
            var path = Path.Combine(dir, "page.html").Replace("\\", "/");
            Assert.Equal("<p>&lt;script&gt;</p>", Eval($"template.render('{path}', {{user = '<script>'}})"));
            Assert.Contains("template.render: template '", Error($"template.render('{dir}/nope.html')"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadArguments()
    {
        Assert.Contains("bad argument #2 to 'template.render_string' (vars table expected, got number)", Error("template.render_string('x', 5)"));
        Assert.Contains("vars must be a table with string keys", Error("template.render_string('x', {1, 2})"));
        Assert.Contains("template.render_string: vars: cannot convert a function value at $.f", Error("template.render_string('x', {f = print})"));
        Assert.Contains("string expected", Error("template.render_string(nil)"));
    }

    [Fact]
    public void TemplateErrorsAreLuaErrors() =>
        Assert.EndsWith("template.render_string: <string>:2: no filter named 'bogus'", Error("template.render_string('a\\n{{ x|bogus }}')"));

    [Fact]
    public void LargeTemplatesRenderOffTheLoop() =>
        Assert.Equal("20002", Eval("#template.render_string(string.rep('ab', 10000) .. '{{ x }}', {x = 42})"));
}
