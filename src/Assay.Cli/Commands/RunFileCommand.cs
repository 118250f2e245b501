using System.CommandLine;

namespace Assay.Cli.Commands;

/// <summary>`assay run FILE [args…]` and the bare `assay FILE`: dispatch by extension.</summary>
public static class RunFileCommand
{
    public static Command Create(CliDefinition cli)
    {
        var file = new Argument<string>("file") { Description = "Lua script to run" };
        var command = new Command("run", "Run a Lua script (same as `assay FILE`)") { file };
        command.SetAction(parse => Dispatch(parse.GetValue(file)!, cli.ScriptArgs, cli.Settings(parse)));
        return command;
    }

    public static int Dispatch(string path, IReadOnlyList<string> args, GlobalSettings settings)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".yaml" or ".yml")
        {
            Console.Error.WriteLine("error: YAML check mode is not available in this build yet");
            return ScriptRunner.ExitError;
        }
        if (ext != ".lua" && File.Exists(path) is false)
        {
            Console.Error.WriteLine($"error: no such script: {path}");
            return ScriptRunner.ExitError;
        }
        return ScriptRunner.RunFile(path, args, settings);
    }
}
