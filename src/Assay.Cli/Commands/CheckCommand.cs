using Assay.Cli.Checks;

namespace Assay.Cli.Commands;

/// <summary>`assay check FILE.yaml` (also `assay FILE.yaml`): health checks for CI and ops.</summary>
public static class CheckCommand
{
    public static readonly Option<string?> Output = new("--output", "-o") { Description = "table (default on a terminal) or json (default when piped)" };
    public static readonly Option<string?> JUnit = new("--junit") { Description = "Also write JUnit XML to FILE" };

    public static Command Create(CliDefinition cli)
    {
        var file = new Argument<string>("file") { Description = "Checks file (YAML)" };
        var command = new Command("check", "Run the checks in a YAML file; exit 0 when all pass, 1 otherwise") { file, Output, JUnit };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(Output), parse.GetValue(JUnit), cli.Settings(parse)));
        return command;
    }

    public static int Run(string path, string? output, string? junit, GlobalSettings settings)
    {
        CheckConfig config;
        try { config = CheckConfig.Load(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or YamlDotNet.Core.YamlException)
        {
            Console.Error.WriteLine($"error: loading config from {path}: {e.Message}");
            return ScriptRunner.ExitError;
        }
        var format = output ?? (Console.IsOutputRedirected ? "json" : "table");
        if (format is not ("table" or "json"))
        {
            Console.Error.WriteLine($"error: unknown output format '{format}' (use table or json)");
            return ScriptRunner.ExitUsage;
        }
        var (results, duration) = new CheckRunner(config, settings, Console.Error).RunAsync().GetAwaiter().GetResult();
        Console.Out.Write(format == "json" ? CheckReport.Json(results, duration) + "\n" : CheckReport.Table(results, duration));
        if (junit != null)
        {
            try { CheckReport.JUnit(junit, Path.GetFileNameWithoutExtension(path), results, duration); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: cannot write JUnit report '{junit}': {e.Message}");
                return ScriptRunner.ExitError;
            }
        }
        return results.All(r => r.Passed) ? ScriptRunner.ExitOk : ScriptRunner.ExitError;
    }
}
