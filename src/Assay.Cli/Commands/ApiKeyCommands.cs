using Assay.Cli.EngineClient;
using static Assay.Cli.EngineClient.ClientCommand;

namespace Assay.Cli.Commands;

/// <summary>`assay apikey …`: API keys of a running engine (REST /api/v1/api-keys; needs a valid credential).</summary>
public static class ApiKeyCommands
{
    static readonly string[] Columns = ["prefix", "label", "created_at", "revoked_at"];

    public static Command Create(ClientOptions o) => Group(o, "apikey", "Manage the engine's API keys", CreateKey(o), List(o), Revoke(o));

    static Command CreateKey(ClientOptions o)
    {
        var label = Opt("--label", "A label to recognise the key by");
        return Leaf(o, "create", "Create a key (the plaintext is shown once)", async (p, api, output) =>
        {
            var body = new JsonObject();
            if (p.GetValue(label) is { } l) body["label"] = l;
            output.Record(await api.SendAsync(HttpMethod.Post, "/api-keys", body));
            return ClientExit.Ok;
        }, label);
    }

    static Command List(ClientOptions o) => Leaf(o, "list", "List keys (prefix, label, created, revoked)", async (p, api, output) =>
    {
        output.List(await api.SendAsync(HttpMethod.Get, "/api-keys"), Columns);
        return ClientExit.Ok;
    });

    static Command Revoke(ClientOptions o)
    {
        var prefix = Arg("prefix", "Key prefix as listed (assay_xxxxxxxx...)");
        return Leaf(o, "revoke", "Revoke a key", async (p, api, output) =>
        {
            await api.SendAsync(HttpMethod.Delete, "/api-keys/" + EngineApi.Escape(p.GetValue(prefix)!));
            output.Done($"api key '{p.GetValue(prefix)}' revoked");
            return ClientExit.Ok;
        }, prefix);
    }
}
