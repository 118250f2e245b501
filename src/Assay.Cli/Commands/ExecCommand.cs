namespace Assay.Cli.Commands;

/// <summary>`assay exec -e CODE` or `assay exec FILE`: run Lua whatever the file's extension.</summary>
public static class ExecCommand
{
    public static Command Create(CliDefinition cli)
    {
        var code = new Option<string?>("--eval", "-e") { Description = "Lua code to run", HelpName = "CODE" };
        var file = new Argument<string?>("FILE") { Description = "Lua file to run (any extension)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("exec", "Run inline Lua code (-e) or a file as Lua") { code, file };
        command.SetAction(parse =>
        {
            var settings = cli.Settings(parse);
            if (parse.GetValue(code) is { } c) return ScriptRunner.RunCode(c, [], settings);
            if (parse.GetValue(file) is { } f) return ScriptRunner.RunFile(f, [], settings);
            Console.Error.WriteLine("error: exec requires either -e <code> or a file path");
            return ScriptRunner.ExitUsage;
        });
        return command;
    }
}
