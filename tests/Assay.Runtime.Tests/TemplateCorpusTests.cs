using System.Text;
using System.Text.Json;
using Assay.Runtime.Templates;

namespace Assay.Runtime.Tests;

/// <summary>
/// The differential check: every case under tests/template-corpus renders byte-identically to
/// the expected.txt that Python's jinja2 produced (tests/template-corpus/generate.py).
/// </summary>
public sealed class TemplateCorpusTests
{
    public static string CorpusDir
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !Directory.Exists(Path.Combine(dir.FullName, "tests", "template-corpus"))) dir = dir.Parent;
            return dir == null ? throw new DirectoryNotFoundException("tests/template-corpus not found") : Path.Combine(dir.FullName, "tests", "template-corpus");
        }
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var d in Directory.GetDirectories(CorpusDir).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            if (d != null && d.Length > 3 && char.IsAsciiDigit(d[0])) data.Add(d);
        return data;
    }

    /// <summary>JSON → the value model the Lua bridge produces (long/double/string/List/OrderedDictionary).</summary>
    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().Aggregate(new OrderedDictionary<string, object?>(), (d, p) => { d[p.Name] = FromJson(p.Value); return d; }),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out long l) && !e.GetRawText().Contains('.') && !e.GetRawText().Contains('e') && !e.GetRawText().Contains('E') ? (object)l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    public static string RenderCase(string name)
    {
        var dir = Path.Combine(CorpusDir, name);
        var main = Directory.GetFiles(dir, "template.*").Single();
        var varsPath = Path.Combine(dir, "vars.json");
        object? vars = null;
        if (File.Exists(varsPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(varsPath));
            vars = FromJson(doc.RootElement);
        }
        return TemplateEngine.RenderFile(main, vars);
    }

    [Fact]
    public void CorpusHasAtLeastSixtyCases() => Assert.True(Cases().Count >= 60, $"only {Cases().Count} cases");

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersLikeJinja2(string name)
    {
        var expected = File.ReadAllBytes(Path.Combine(CorpusDir, name, "expected.txt"));
        var actual = Encoding.UTF8.GetBytes(RenderCase(name));
        if (!expected.AsSpan().SequenceEqual(actual))
            Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(actual));
    }
}
