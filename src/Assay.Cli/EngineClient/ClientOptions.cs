namespace Assay.Cli.EngineClient;

/// <summary>Flags shared by the engine client commands (workflow, schedule, namespace, worker, queue).</summary>
public sealed class ClientOptions
{
    public readonly Option<string?> EngineUrl = new("--engine-url") { Description = "Engine base URL (env ASSAY_ENGINE_URL; default http://127.0.0.1:8080)", Recursive = true };
    public readonly Option<string?> ApiKey = new("--api-key") { Description = "API key sent as a Bearer token (env ASSAY_API_KEY)", Recursive = true };
    public readonly Option<string?> ApiKeyFile = new("--api-key-file") { Description = "Read the API key from this file", Recursive = true };
    public readonly Option<string?> Namespace = new("--namespace") { Description = "Namespace (env ASSAY_NAMESPACE; default main)", Recursive = true };
    public readonly Option<string?> Output = new("--output", "-o") { Description = "table | json | jsonl | yaml (env ASSAY_OUTPUT; default table on a terminal, json when piped)", Recursive = true };
    public readonly Option<string?> Config = new("--config") { Description = "Config file (env ASSAY_CONFIG_FILE)", Recursive = true };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { EngineUrl, ApiKey, ApiKeyFile, Namespace, Output, Config }) command.Options.Add(o);
    }

    /// <summary>Resolves every setting: flag, then environment, then config file, then default.</summary>
    public ClientSettings Resolve(ParseResult parse) => ClientSettings.Resolve(
        parse.GetValue(EngineUrl), parse.GetValue(ApiKey), parse.GetValue(ApiKeyFile),
        parse.GetValue(Namespace), parse.GetValue(Output), parse.GetValue(Config));
}
