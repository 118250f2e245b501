namespace Assay.Cli.Commands;

/// <summary>`assay completion bash|zsh|fish`: a completion script generated from the command tree.</summary>
public static class CompletionCommand
{
    public static Command Create(CliDefinition cli)
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or fish" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion", "Print a shell completion script") { shell };
        command.SetAction(parse =>
        {
            var words = Words(cli.Root);
            Console.Out.Write(parse.GetValue(shell) switch
            {
                "bash" => Bash(words),
                "zsh" => "autoload -U +X bashcompinit && bashcompinit\n" + Bash(words),
                _ => Fish(words),
            });
            return 0;
        });
        return command;
    }

    /// <summary>For each command path ("", "workflow", …) the words that may follow it.</summary>
    static Dictionary<string, List<string>> Words(Command root)
    {
        var map = new Dictionary<string, List<string>>();
        void Walk(Command c, string path)
        {
            var list = c.Subcommands.Select(s => s.Name).Concat(c.Options.Select(o => o.Name)).ToList();
            map[path] = list;
            foreach (var s in c.Subcommands) Walk(s, path.Length == 0 ? s.Name : path + " " + s.Name);
        }
        Walk(root, "");
        return map;
    }

    static string Bash(Dictionary<string, List<string>> words)
    {
        var sb = new StringBuilder("_assay() {\n  local cur=${COMP_WORDS[COMP_CWORD]} path=\"\" w\n");
        sb.Append("  for w in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do [[ $w != -* ]] && path=\"${path:+$path }$w\"; done\n");
        sb.Append("  case \"$path\" in\n");
        foreach (var (path, list) in words)
            sb.Append($"    \"{path}\") COMPREPLY=($(compgen -W \"{string.Join(' ', list)}\" -- \"$cur\")) ;;\n");
        sb.Append("    *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n  esac\n}\ncomplete -o default -F _assay assay\n");
        return sb.ToString();
    }

    static string Fish(Dictionary<string, List<string>> words)
    {
        var sb = new StringBuilder();
        foreach (var w in words.GetValueOrDefault("") ?? [])
            if (!w.StartsWith('-')) sb.Append($"complete -c assay -n '__fish_use_subcommand' -a {w}\n");
        foreach (var (path, list) in words.Where(kv => kv.Key.Length > 0 && !kv.Key.Contains(' ')))
            foreach (var w in list.Where(x => !x.StartsWith('-')))
                sb.Append($"complete -c assay -n '__fish_seen_subcommand_from {path}' -a {w}\n");
        return sb.ToString();
    }
}
