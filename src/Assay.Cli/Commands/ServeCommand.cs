using Assay.Engine.Hosting;
using Microsoft.Extensions.Logging;

namespace Assay.Cli.Commands;

/// <summary>`assay serve`: the workflow engine (src/Assay.Engine) behind its thin host.</summary>
public static class ServeCommand
{
    public static Command Create(CliDefinition cli)
    {
        var port = new Option<int>("--port") { Description = "TCP port (0 picks a free one)", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host")
        {
            Description = "Interface to bind; 127.0.0.1 keeps the engine local (use 0.0.0.0 to expose it)",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var backend = new Option<string?>("--backend")
        {
            Description = "Store URL: a SQLite file path or sqlite: URL, or postgres://… " +
                          "(default: $DATABASE_URL, else ./assay-workflow.db)",
        };
        var maxBody = new Option<long>("--max-body-mb") { Description = "Largest request body in MiB (default 8)", DefaultValueFactory = _ => 8 };
        var noAuth = new Option<bool>("--no-auth") { Description = "Open access (the default; ignored with a warning when an auth flag is given)" };
        var authApiKey = new Option<bool>("--auth-api-key") { Description = "Require API keys (Authorization: Bearer assay_…)" };
        var authIssuer = new Option<string?>("--auth-issuer") { Description = "Accept JWTs from this OIDC issuer (discovery + JWKS)" };
        var authAudience = new Option<string?>("--auth-audience") { Description = "Required JWT audience (checked only when set)" };
        var generateKey = new Option<bool>("--generate-api-key") { Description = "Create an API key, print it once and exit" };
        var keyLabel = new Option<string?>("--label") { Description = "Label for --generate-api-key" };
        var listKeys = new Option<bool>("--list-api-keys") { Description = "List API keys (prefix, label) and exit" };
        var archiveDir = new Option<string?>("--archive-dir")
        {
            Description = "Directory for retention archives; namespaces with retention_secs are archived there, then purged",
        };
        var requireLeaseToken = new Option<bool>("--require-lease-token")
        {
            Description = "Refuse task reports without the claim's lease token from every worker " +
                          "(workers that never send one, like the original seed client, then cannot report)",
        };
        var command = new Command("serve", "Start the durable workflow engine (REST API on /api/v1)")
        {
            port, host, backend, maxBody, noAuth, authApiKey, authIssuer, authAudience, generateKey, keyLabel, listKeys, archiveDir,
            requireLeaseToken,
        };
        command.SetAction(async (parse, ct) =>
        {
            var settings = cli.Settings(parse);
            var options = new EngineOptions
            {
                Port = parse.GetValue(port),
                Host = parse.GetValue(host)!,
                Backend = parse.GetValue(backend),
                MaxBodyBytes = Math.Max(1, parse.GetValue(maxBody)) * 1024 * 1024,
                LogLevel = settings.Verbose ? LogLevel.Debug : LogLevel.Information,
                LogFormat = settings.LogFormat == Runtime.LogFormat.Json ? "json" : "text",
                Version = EngineOptions.DefaultVersion,
                AuthApiKey = parse.GetValue(authApiKey),
                AuthIssuer = parse.GetValue(authIssuer),
                AuthAudience = parse.GetValue(authAudience),
                ArchiveDirectory = parse.GetValue(archiveDir),
                RequireLeaseToken = parse.GetValue(requireLeaseToken),
            };
            if (parse.GetValue(generateKey) || parse.GetValue(listKeys))
                return await ApiKeyAdminAsync(options, parse.GetValue(generateKey), parse.GetValue(keyLabel));
            if (parse.GetValue(noAuth) && options.AuthEnabled)
                Console.Error.WriteLine("warning: --no-auth is ignored because an authentication flag was given");
            return await EngineHost.RunAsync(options, ct);
        });
        return command;
    }

    static async Task<int> ApiKeyAdminAsync(EngineOptions options, bool generate, string? label)
    {
        try
        {
            if (generate)
            {
                var (key, rec) = await EngineAdmin.GenerateApiKeyAsync(options, label);
                Console.Out.WriteLine(key);
                Console.Error.WriteLine($"API key created ({rec.Prefix}). Store it now: it is not shown again.");
                return 0;
            }
            var keys = await EngineAdmin.ListApiKeysAsync(options);
            if (keys.Count == 0) Console.Out.WriteLine("No API keys configured.");
            foreach (var k in keys)
                Console.Out.WriteLine($"  {k.Prefix} {k.Label ?? ""}{(k.RevokedAt is null ? "" : " (revoked)")}".TrimEnd());
            return 0;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ArgumentException or UriFormatException
                                      or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"assay serve: {e.Message}");
            return 1;
        }
    }
}
