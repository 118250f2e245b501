using Assay.Runtime.Discovery;

namespace Assay.Cli.Commands;

/// <summary>
/// `assay types [DIR]`: writes LuaLS definition files for every builtin and assay.* module into DIR
/// (default .assay/types) and points ./.luarc.json at them, so VS Code and Neovim complete and
/// type-check Assay scripts.
/// </summary>
public static class TypesCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "Folder for the definition files (default .assay/types)", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => ".assay/types" };
        var command = new Command("types", "Write lua-language-server definitions for editor completion, and a .luarc.json") { dir };
        command.SetAction(parse => Run(parse.GetValue(dir)!));
        return command;
    }

    static int Run(string dir)
    {
        try
        {
            var files = LuaTypes.Generate(ModuleCatalog.Discover());
            foreach (var (name, text) in files)
            {
                var path = Path.Combine(dir, name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, text);
            }
            var luarc = WriteLuarc(dir);
            Console.Out.WriteLine($"wrote {files.Count} definition files to {dir} and {luarc}");
            return ScriptRunner.ExitOk;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot write types: {e.Message}");
            return ScriptRunner.ExitError;
        }
    }

    /// <summary>Creates or updates ./.luarc.json: Lua 5.4, the types folder as a library; other settings are kept.</summary>
    static string WriteLuarc(string dir)
    {
        const string path = ".luarc.json";
        JsonObject config = [];
        if (File.Exists(path))
        {
            try { config = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? []; }
            catch (System.Text.Json.JsonException) { throw new IOException($"{path} is not valid JSON; fix or remove it"); }
        }
        config["$schema"] ??= "https://raw.githubusercontent.com/LuaLS/vscode-lua/master/setting/schema.json";
        config["runtime.version"] = "Lua 5.4";
        var library = config["workspace.library"] as JsonArray ?? [];
        if (!library.Any(n => n?.GetValue<string>() == dir)) library.Add((JsonNode)JsonValue.Create(dir));
        config["workspace.library"] = library;
        File.WriteAllText(path, CliJson.Write(w => config.WriteTo(w), indented: true) + "\n");
        return path;
    }
}
