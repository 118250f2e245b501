using Assay.Cli.Commands;
using Assay.Cli.Interactive;
using Assay.Runtime;

namespace Assay.Cli;

/// <summary>The command tree. Each subcommand lives in Commands/; shared options live here.</summary>
public sealed class CliDefinition
{
    public readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Log at debug level",
        Recursive = true,
    };

    public readonly Option<LogFormat> LogFormat = new("--log-format")
    {
        Description = "Log output on stderr: text (for people) or json (one object per line)",
        DefaultValueFactory = _ => Runtime.LogFormat.Text,
        Recursive = true,
    };

    /// <summary>A script option: added only to the commands that run Lua (see <see cref="RunsLua"/>).</summary>
    public readonly Option<long> MemoryLimit = new("--memory-limit")
    {
        Description = "Memory cap of the Lua heap in MiB (default 1024, or $ASSAY_MEMORY_LIMIT_MB)",
        HelpName = "MiB",
        DefaultValueFactory = _ => GlobalSettings.DefaultMemoryLimitMiB,
    };

    public readonly Option<string?> Eval = new("--eval", "-e")
    {
        Description = "Run CODE instead of a file",
        HelpName = "CODE",
    };

    public RootCommand Root { get; }

    /// <summary>Flags of the engine client commands (workflow, schedule, namespace, worker, queue).</summary>
    public EngineClient.ClientOptions Client { get; } = new();

    /// <summary>Arguments after the script's path belong to the script (the `arg` table).</summary>
    public IReadOnlyList<string> ScriptArgs { get; set; } = [];

    /// <summary>Names of subcommands: a first positional token equal to one is not a script.</summary>
    readonly HashSet<string> _subcommands = [];

    public CliDefinition()
    {
        Root = new RootCommand(
            "Assay: a batteries-included Lua 5.4 runtime and a durable workflow engine.\n\n" +
            "  assay script.lua [args...]   run a script (the `arg` table holds args)\n" +
            "  assay -e 'print(1)'          run code from the command line\n" +
            "  assay test [paths...]        run *_test.lua / *.test.lua files\n" +
            "  assay serve                  start the workflow engine");
        Root.Options.Add(Verbose);
        Root.Options.Add(LogFormat);
        Root.Options.Add(MemoryLimit);
        Root.Options.Add(Eval);
        ReplaceVersionOption();
        // Hidden: a parent's arguments would otherwise appear in every subcommand's usage line
        // ("assay [<file>] exec"); the root's description shows how to run a script instead.
        var file = new Argument<string?>("file") { Description = "Lua script to run", Arity = ArgumentArity.ZeroOrOne, Hidden = true };
        Root.Arguments.Add(file);
        Root.SetAction(parse =>
        {
            var code = parse.GetValue(Eval);
            if (code != null) return ScriptRunner.RunCode(code, ScriptArgs, Settings(parse));
            var path = parse.GetValue(file);
            if (path == "-") return ScriptRunner.RunStdin(ScriptArgs, Settings(parse));
            if (path != null && path.StartsWith('-'))
            {
                Console.Error.WriteLine($"error: unknown option '{path}'. Run 'assay --help' for usage.");
                return ScriptRunner.ExitUsage;
            }
            if (path != null) return RunFileCommand.Dispatch(path, ScriptArgs, Settings(parse));
            return Console.IsInputRedirected ? ScriptRunner.RunStdin(ScriptArgs, Settings(parse)) : Repl.Run(Settings(parse));
        });

        foreach (var command in new[]
                 {
                     RunsLua(RunFileCommand.Create(this)), RunsLua(ExecCommand.Create(this)), TestCommand.Create(this),
                     ServeCommand.Create(this),
                     WorkflowCommands.Create(Client), ScheduleCommands.Create(Client), ApiKeyCommands.Create(Client),
                     RegistryCommands.Namespaces(Client), RegistryCommands.Workers(Client),
                     RegistryCommands.Queues(Client), CompletionCommand.Create(this),
                     ToolMode.ResumeCommand.Create(), DiscoveryCommands.Modules(), DiscoveryCommands.Context(), TypesCommand.Create(),
                     RunsLua(CheckCommand.Create(this)), RunsLua(ReplCommand()),
                 })
        {
            Root.Subcommands.Add(command);
            _subcommands.Add(command.Name);
        }
        RunFileCommand.KnownCommands = _subcommands;
    }

    Command ReplCommand()
    {
        var command = new Command("repl", "Start an interactive Lua session (also `assay` with no script on a terminal)");
        command.SetAction(parse => Repl.Run(Settings(parse)));
        return command;
    }

    /// <summary>Marks a command as one that runs Lua: it takes the script options (--memory-limit).</summary>
    public Command RunsLua(Command command)
    {
        command.Options.Add(MemoryLimit);
        return command;
    }

    public GlobalSettings Settings(ParseResult parse)
    {
        long mib = parse.GetResult(MemoryLimit) != null ? parse.GetValue(MemoryLimit) : GlobalSettings.DefaultMemoryLimitMiB;
        return new(parse.GetValue(Verbose), parse.GetValue(LogFormat), Math.Max(1, mib) * 1024 * 1024);
    }

    /// <summary>`assay --version` prints `assay 0.1.0 (commit)` like other tools, not the bare informational version.</summary>
    void ReplaceVersionOption()
    {
        var builtIn = Root.Options.OfType<VersionOption>().FirstOrDefault();
        if (builtIn != null) builtIn.Action = new VersionAction();
    }

    public static string VersionLine()
    {
        var info = AssayVersion.Informational;
        var plus = info.IndexOf('+');
        if (plus < 0) return $"assay {info}";
        var commit = info[(plus + 1)..];
        return $"assay {info[..plus]} ({(commit.Length > 12 ? commit[..12] : commit)})";
    }

    sealed class VersionAction : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(VersionLine());
            return 0;
        }
    }

    /// <summary>
    /// Splits `assay [opts] FILE a b --c` (and `assay run [opts] FILE …`) into what the parser sees
    /// and the script's own arguments, so a script may take options the CLI does not know.
    /// </summary>
    public (string[] Cli, string[] Script) SplitScriptArguments(string[] args)
    {
        string[] withValue = ["--log-format", "--memory-limit", "--eval", "-e", "--mode", "--timeout"];
        int i = 0;
        bool sawRun = false, evalSeen = false;
        while (i < args.Length)
        {
            var a = args[i];
            if (a == "--") { i++; break; }
            if (a.StartsWith('-') && a.Length > 1)
            {
                if (a is "-e" or "--eval") evalSeen = true; // `assay -e CODE a b`: a, b are arg[1..]
                i += withValue.Contains(a) ? 2 : 1;
                continue;
            }
            if (!sawRun && a == "run") { sawRun = true; i++; continue; }
            if (evalSeen) return (args[..i], args[i..]);
            if (!sawRun && _subcommands.Contains(a)) return (args, []);
            // a is the script path
            return (args[..(i + 1)], args[(i + 1)..]);
        }
        return (args, []);
    }
}
