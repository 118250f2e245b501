using Assay.Cli.Interactive;

namespace Assay.Cli;

/// <summary>
/// `assay`: the entry point. `assay FILE.lua [args…]` runs a script; subcommands do the rest.
/// Exit codes: 0 ok, 1 error (Lua error, failed tests), 2 usage error, n from os.exit(n), 130 Ctrl-C.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        TuneThreadPool(args);
        if (TryFastPath(args) is { } code) return code;
        var cli = new CliDefinition();
        var (cliArgs, scriptArgs) = cli.SplitScriptArguments(args);
        // "@file" is ours (JSON input from a file), not a response file.
        var parse = cli.Root.Parse(cliArgs, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            var command = parse.CommandResult.Command;
            foreach (var token in parse.UnmatchedTokens)
                if (ErrorHints.Closest(token, command.Subcommands.Select(c => c.Name)) is { } near)
                    Console.Error.WriteLine($"hint: did you mean '{near}'?");
            Console.Error.WriteLine($"Run 'assay {(command is RootCommand ? "" : CommandPath(parse) + " ")}--help' for usage.");
            return ScriptRunner.ExitUsage;
        }
        cli.ScriptArgs = scriptArgs;
        return parse.Invoke();
    }

    static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r != null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>
    /// `assay script.lua …` and `assay -e CODE …` without global options skip building the
    /// command tree: start-up time is the product for short scripts.
    /// </summary>
    /// <summary>
    /// Idle thread-pool workers of scripts and Lua workers block at once instead of spinning with sched_yield first (the
    /// binary is built so): a worker process shares the cores with the engine and other workers, and the spinning took a
    /// tenth of its CPU without making anything faster. `assay serve` gets .NET's default back (a null value reads as
    /// unset), whose spinning saves about 1 ms of a workflow's latency on PostgreSQL (docs/benchmarks.md, "Spinning").
    /// Must run before anything starts the thread pool, which reads the setting once.
    /// </summary>
    static void TuneThreadPool(string[] args)
    {
        var script = args.Length == 0 || args[0] is "-" or "-e" || args[0].EndsWith(".lua", StringComparison.Ordinal);
        if (!script && args.Contains("serve"))
            AppContext.SetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", null);
    }

    static int? TryFastPath(string[] args)
    {
        if (Environment.GetEnvironmentVariable("ASSAY_MODE") == "tool") return null;
        var settings = GlobalSettings.FromEnvironment();
        // `echo 'print(1)' | assay` runs what is piped in; on a terminal, `assay` alone is the REPL
        if (args.Length == 0) return Console.IsInputRedirected ? ScriptRunner.RunStdin([], settings) : Repl.Run(settings);
        if (args[0] == "-") return ScriptRunner.RunStdin(args[1..], settings);
        if (args[0] is "-e" && args.Length >= 2) return ScriptRunner.RunCode(args[1], args[2..], settings);
        if (args[0].EndsWith(".lua", StringComparison.Ordinal) && !args[0].StartsWith('-'))
            return ScriptRunner.RunFile(args[0], args[1..], settings);
        return null;
    }
}
