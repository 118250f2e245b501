using System.Xml;

namespace Assay.Cli.Checks;

/// <summary>Results for people (a table), for programs (JSON) and for CI (JUnit XML).</summary>
public static class CheckReport
{
    public static string Table(IReadOnlyList<CheckResult> results, long durationMs)
    {
        var sb = new StringBuilder();
        int width = Math.Max(5, results.Max(r => r.Name.Length));
        sb.Append($"{"CHECK".PadRight(width)}  RESULT  TIME      DETAILS\n");
        foreach (var r in results)
            sb.Append($"{r.Name.PadRight(width)}  {(r.Passed ? "pass" : "FAIL"),-6}  {r.DurationMs + " ms",-8}  {r.Message}".TrimEnd()).Append('\n');
        int passed = results.Count(r => r.Passed);
        sb.Append($"\n{passed} passed, {results.Count - passed} failed in {durationMs} ms\n");
        return sb.ToString();
    }

    public static string Json(IReadOnlyList<CheckResult> results, long durationMs) => CliJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("passed", results.All(r => r.Passed));
            w.WriteStartArray("checks");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteString("type", r.Type);
                w.WriteBoolean("passed", r.Passed);
                w.WriteNumber("duration_ms", r.DurationMs);
                w.WriteNumber("attempts", r.Attempts);
                if (r.Message == null) w.WriteNull("message"); else w.WriteString("message", r.Message);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("duration_ms", durationMs);
            w.WriteEndObject();
        }, indented: true);

    public static void JUnit(string path, string suiteName, IReadOnlyList<CheckResult> results, long durationMs)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) };
        using var w = XmlWriter.Create(path, settings);
        w.WriteStartElement("testsuites");
        w.WriteStartElement("testsuite");
        w.WriteAttributeString("name", suiteName);
        w.WriteAttributeString("tests", results.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteAttributeString("failures", results.Count(r => !r.Passed).ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteAttributeString("time", Seconds(durationMs));
        foreach (var r in results)
        {
            w.WriteStartElement("testcase");
            w.WriteAttributeString("name", r.Name);
            w.WriteAttributeString("classname", $"{suiteName}.{r.Type}");
            w.WriteAttributeString("time", Seconds(r.DurationMs));
            if (!r.Passed)
            {
                w.WriteStartElement("failure");
                w.WriteAttributeString("message", r.Message ?? "failed");
                w.WriteString(r.Message ?? "");
                w.WriteEndElement();
            }
            else if (r.Message != null) w.WriteElementString("system-out", r.Message);
            w.WriteEndElement();
        }
        w.WriteEndElement();
        w.WriteEndElement();
    }

    static string Seconds(long ms) => (ms / 1000.0).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
}
