using YamlDotNet.RepresentationModel;

namespace Assay.Cli.EngineClient;

public enum OutputFormat { Table, Json, Jsonl, Yaml }

/// <summary>Thrown for bad user input (exit 64) or failures talking to the engine (exit 1).</summary>
public sealed class ClientException(string message, int exitCode = ClientExit.Error) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

public static class ClientExit
{
    public const int Ok = 0, Error = 1, Timeout = 2, BadInput = 64;
}

/// <summary>
/// Where the client talks to and how it prints. Precedence: flag &gt; environment &gt; config file
/// &gt; default. Config files (YAML, first found): --config/$ASSAY_CONFIG_FILE (must exist),
/// $XDG_CONFIG_HOME/assay/config.yaml, ~/.config/assay/config.yaml, /etc/assay/config.yaml.
/// </summary>
public sealed record ClientSettings(string EngineUrl, string? ApiKey, string Namespace, OutputFormat Output)
{
    static readonly string[] KnownKeys = ["engine_url", "api_key", "api_key_file", "namespace", "output"];

    public static ClientSettings Resolve(string? url, string? apiKey, string? apiKeyFile, string? ns, string? output, string? configPath)
    {
        var file = LoadConfig(configPath ?? Env("ASSAY_CONFIG_FILE"));
        var keyFile = apiKeyFile ?? file.GetValueOrDefault("api_key_file");
        var key = apiKey ?? Env("ASSAY_API_KEY") ?? (keyFile != null ? ReadKeyFile(keyFile) : file.GetValueOrDefault("api_key"));
        var format = output ?? Env("ASSAY_OUTPUT") ?? file.GetValueOrDefault("output");
        return new ClientSettings(
            (url ?? Env("ASSAY_ENGINE_URL") ?? file.GetValueOrDefault("engine_url") ?? "http://127.0.0.1:8080").TrimEnd('/'),
            key,
            ns ?? Env("ASSAY_NAMESPACE") ?? file.GetValueOrDefault("namespace") ?? "main",
            ParseFormat(format));
    }

    static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    static OutputFormat ParseFormat(string? value) => value?.ToLowerInvariant() switch
    {
        null => Console.IsOutputRedirected ? OutputFormat.Json : OutputFormat.Table,
        "table" => OutputFormat.Table,
        "json" => OutputFormat.Json,
        "jsonl" => OutputFormat.Jsonl,
        "yaml" or "yml" => OutputFormat.Yaml,
        _ => throw new ClientException($"unknown output format '{value}' (use table, json, jsonl or yaml)", ClientExit.BadInput),
    };

    static string ReadKeyFile(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClientException($"cannot read API key file '{path}': {e.Message}", ClientExit.BadInput);
        }
    }

    static IEnumerable<string> CandidateFiles()
    {
        if (Env("XDG_CONFIG_HOME") is { } xdg) yield return Path.Combine(xdg, "assay", "config.yaml");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length > 0) yield return Path.Combine(home, ".config", "assay", "config.yaml");
        yield return "/etc/assay/config.yaml";
    }

    static Dictionary<string, string> LoadConfig(string? explicitPath)
    {
        string? path = explicitPath;
        if (path != null && !File.Exists(path)) throw new ClientException($"config file not found: {path}", ClientExit.BadInput);
        path ??= CandidateFiles().FirstOrDefault(File.Exists);
        if (path == null) return [];
        try
        {
            var yaml = new YamlStream();
            using (var reader = new StreamReader(path)) yaml.Load(reader);
            var result = new Dictionary<string, string>();
            if (yaml.Documents.Count == 0) return result;
            if (yaml.Documents[0].RootNode is not YamlMappingNode map)
                throw new ClientException($"config file {path}: expected a mapping of settings", ClientExit.BadInput);
            foreach (var (k, v) in map.Children)
            {
                var key = (k as YamlScalarNode)?.Value ?? "";
                if (!KnownKeys.Contains(key))
                    throw new ClientException($"config file {path}: unknown key '{key}' (known: {string.Join(", ", KnownKeys)})", ClientExit.BadInput);
                result[key] = (v as YamlScalarNode)?.Value ?? "";
            }
            return result;
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ClientException($"config file {path}: {e.Message}", ClientExit.BadInput);
        }
    }
}
