using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Assay.Cli.Checks;

/// <summary>One entry of `checks:` (fields not used by a type are ignored).</summary>
public sealed record CheckSpec(
    string Name, string Type, IReadOnlyDictionary<string, string> Fields, IReadOnlyDictionary<string, string> Headers,
    IReadOnlyDictionary<string, string> Env, IReadOnlyDictionary<string, string>? Expect, TimeSpan? Timeout);

/// <summary>A checks file: global budget, retry policy, the checks. Paths resolve from the file's folder.</summary>
public sealed record CheckConfig(TimeSpan Timeout, int Retries, TimeSpan Backoff, bool Parallel, string BaseDir, IReadOnlyList<CheckSpec> Checks)
{
    static readonly string[] Types = ["http", "prometheus", "script", "tcp", "dns"];

    public static CheckConfig Load(string path)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path)) yaml.Load(reader);
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new FormatException("expected a mapping with a `checks:` list");
        var checks = Child(root, "checks") as YamlSequenceNode ?? throw new FormatException("`checks:` (a list) is required");
        var specs = new List<CheckSpec>();
        int index = 0;
        foreach (var node in checks)
        {
            index++;
            if (node is not YamlMappingNode map) throw new FormatException($"check #{index}: expected a mapping");
            var name = Scalar(map, "name") ?? throw new FormatException($"check #{index}: `name` is required");
            var type = Scalar(map, "type") ?? throw new FormatException($"check '{name}': `type` is required");
            if (!Types.Contains(type)) throw new FormatException($"check '{name}': unknown check type '{type}' (use {string.Join(", ", Types)})");
            var fields = map.Children.Where(kv => kv.Value is YamlScalarNode)
                .ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value ?? "");
            var timeout = fields.TryGetValue("timeout", out var t) ? ParseDuration(t, $"check '{name}' timeout") : (TimeSpan?)null;
            specs.Add(new CheckSpec(name, type, fields, Map(map, "headers"), Map(map, "env"),
                Child(map, "expect") is YamlMappingNode ? Map(map, "expect") : null, timeout));
            Require(specs[^1]);
        }
        return new CheckConfig(
            ParseDuration(Scalar(root, "timeout") ?? "120s", "timeout"),
            int.TryParse(Scalar(root, "retries") ?? "3", NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) && r >= 0 ? r : throw new FormatException("`retries` must be a whole number >= 0"),
            ParseDuration(Scalar(root, "backoff") ?? "5s", "backoff"),
            Scalar(root, "parallel") is "true" or "yes",
            Path.GetDirectoryName(Path.GetFullPath(path))!,
            specs);
    }

    static void Require(CheckSpec c)
    {
        string[] needed = c.Type switch
        {
            "http" => ["url"], "prometheus" => ["url", "query"], "script" => ["file"], "tcp" => ["host", "port"], _ => ["host"],
        };
        foreach (var f in needed)
            if (!c.Fields.ContainsKey(f)) throw new FormatException($"check '{c.Name}': a {c.Type} check needs `{f}`");
    }

    /// <summary>"500ms", "30s", "2m", "1h", "1m30s", "1.5s".</summary>
    public static TimeSpan ParseDuration(string text, string what)
    {
        var s = text.Trim();
        var total = TimeSpan.Zero;
        int i = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.')) i++;
            if (start == i) throw new FormatException($"{what}: invalid duration '{text}' (e.g. 500ms, 30s, 2m, 1m30s)");
            var number = double.Parse(s[start..i], CultureInfo.InvariantCulture);
            int unitStart = i;
            while (i < s.Length && char.IsLetter(s[i])) i++;
            total += s[unitStart..i] switch
            {
                "ms" => TimeSpan.FromMilliseconds(number),
                "s" or "" => TimeSpan.FromSeconds(number),
                "m" => TimeSpan.FromMinutes(number),
                "h" => TimeSpan.FromHours(number),
                _ => throw new FormatException($"{what}: unknown unit in '{text}' (use ms, s, m or h)"),
            };
        }
        return total;
    }

    static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    static string? Scalar(YamlMappingNode map, string key) => (Child(map, key) as YamlScalarNode)?.Value;

    static Dictionary<string, string> Map(YamlMappingNode map, string key) =>
        Child(map, key) is YamlMappingNode m
            ? m.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value ?? "")
            : [];
}
