using System.CommandLine;
using Assay.Cli.Commands;

namespace Assay.Cli;

/// <summary>
/// `assay`: the entry point. `assay FILE.lua [args…]` runs a script; subcommands do the rest.
/// Exit codes: 0 ok, 1 error (Lua error, failed tests), 2 usage error, n from os.exit(n), 130 Ctrl-C.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var cli = new CliDefinition();
        var (cliArgs, scriptArgs) = cli.SplitScriptArguments(args);
        var parse = cli.Root.Parse(cliArgs);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run 'assay --help' for usage.");
            return ScriptRunner.ExitUsage;
        }
        cli.ScriptArgs = scriptArgs;
        return parse.Invoke();
    }
}
