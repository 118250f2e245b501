using System.CommandLine;
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
        var command = new Command("serve", "Start the durable workflow engine (REST API on /api/v1)") { port, host, backend, maxBody };
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
            };
            return await EngineHost.RunAsync(options, ct);
        });
        return command;
    }
}
