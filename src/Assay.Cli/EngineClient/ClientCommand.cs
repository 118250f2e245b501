namespace Assay.Cli.EngineClient;

/// <summary>Wires a client subcommand: settings resolved, errors printed, exit codes mapped.</summary>
public static class ClientCommand
{
    public delegate Task<int> Body(ParseResult parse, EngineApi api, OutputWriter output);

    public static Command Leaf(ClientOptions options, string name, string description, Body body, params Symbol[] symbols)
    {
        var command = new Command(name, description);
        foreach (var s in symbols)
        {
            if (s is Option o) command.Options.Add(o);
            else if (s is Argument a) command.Arguments.Add(a);
        }
        command.SetAction(async (parse, _) =>
        {
            try
            {
                var settings = options.Resolve(parse);
                using var api = new EngineApi(settings);
                return await body(parse, api, new OutputWriter(settings.Output));
            }
            catch (ClientException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return e.ExitCode;
            }
        });
        return command;
    }

    public static Command Group(ClientOptions options, string name, string description, params Command[] children)
    {
        var group = new Command(name, description);
        options.AddTo(group);
        foreach (var c in children) group.Subcommands.Add(c);
        return group;
    }

    public static Argument<string> Arg(string name, string description) => new(name) { Description = description };

    public static Argument<string?> OptionalArg(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.ZeroOrOne };

    public static Option<string?> Opt(string name, string description) => new(name) { Description = description };
}
