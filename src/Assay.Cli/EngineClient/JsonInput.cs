namespace Assay.Cli.EngineClient;

/// <summary>JSON arguments: a literal, @file.json, or - for stdin. Invalid JSON is exit 64.</summary>
public static class JsonInput
{
    public static JsonNode? Read(string? argument, string what)
    {
        if (argument == null) return null;
        string text;
        if (argument == "-") text = Console.In.ReadToEnd();
        else if (argument.StartsWith('@'))
        {
            try { text = File.ReadAllText(argument[1..]); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ClientException($"cannot read {what} from '{argument[1..]}': {e.Message}", ClientExit.BadInput);
            }
        }
        else text = argument;
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ClientException($"{what} is not valid JSON: {e.Message}", ClientExit.BadInput);
        }
    }
}
