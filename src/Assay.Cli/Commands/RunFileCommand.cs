namespace Assay.Cli.Commands;

/// <summary>`assay run FILE [args…]` and the bare `assay FILE`: dispatch by extension.</summary>
public static class RunFileCommand
{
    public static Command Create(CliDefinition cli)
    {
        var file = new Argument<string>("file") { Description = "Lua script to run" };
        var mode = new Option<string?>("--mode") { Description = "script (default) or tool: one JSON envelope on stdout for agents (also ASSAY_MODE=tool)" };
        mode.AcceptOnlyFromAmong("script", "tool");
        var timeout = new Option<double>("--timeout") { Description = "Tool mode: stop the script after SECS (default 20)", DefaultValueFactory = _ => 20 };
        var command = new Command("run", "Run a Lua script (same as `assay FILE`)") { file, mode, timeout };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var chosen = parse.GetValue(mode) ?? Environment.GetEnvironmentVariable("ASSAY_MODE");
            if (chosen == "tool" && !IsYaml(path)) return ToolMode.ToolRunner.Run(path, parse.GetValue(timeout), cli.Settings(parse));
            return Dispatch(path, cli.ScriptArgs, cli.Settings(parse));
        });
        return command;
    }

    static bool IsYaml(string path) => Path.GetExtension(path).ToLowerInvariant() is ".yaml" or ".yml";

    /// <summary>Subcommand names, for "did you mean" on a first word that is neither a file nor a command.</summary>
    public static IReadOnlyCollection<string> KnownCommands { get; set; } = [];

    public static int Dispatch(string path, IReadOnlyList<string> args, GlobalSettings settings)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".yaml" or ".yml") return CheckCommand.Run(path, null, null, settings);
        if (Environment.GetEnvironmentVariable("ASSAY_MODE") == "tool") return ToolMode.ToolRunner.Run(path, 20, settings);
        if (ext != ".lua" && File.Exists(path) is false)
        {
            Console.Error.WriteLine($"error: no such script or command: {path}");
            if (ErrorHints.Closest(path, KnownCommands) is { } command) Console.Error.WriteLine($"hint: did you mean 'assay {command}'?");
            return ScriptRunner.ExitUsage;
        }
        return ScriptRunner.RunFile(path, args, settings);
    }
}
