using Assay.Engine.Auth;

namespace Assay.Engine.Api;

/// <summary>API-key administration: create (plaintext answered once), list (prefix, label, times), revoke.
/// Behind authentication like every other route (any valid credential may manage keys).</summary>
internal static class ApiKeyEndpoints
{
    public static void Map(IEndpointRouteBuilder api, WorkflowEngine engine)
    {
        IApiKeyStore apiKeys = engine.Store;

        api.MapPost("/api-keys", async ctx =>
        {
            using var b = await JsonBody.ReadAsync(ctx);
            var label = b.String("label");
            if (label is { Length: > 200 }) throw EngineException.Invalid("label is too long (200 characters at most)");
            var key = ApiKeys.Generate();
            var rec = await apiKeys.CreateApiKeyAsync(ApiKeys.Hash(key), ApiKeys.Prefix(key), label);
            ctx.Response.Headers.CacheControl = "no-store";
            await ctx.JsonAsync(201, rec with { Key = key }, EngineJsonContext.Wire.ApiKeyRecord);
        });
        api.MapGet("/api-keys", async ctx =>
            await ctx.JsonAsync(200, await apiKeys.ListApiKeysAsync(), EngineJsonContext.Wire.IReadOnlyListApiKeyRecord));
        api.MapDelete("/api-keys/{prefix}", async ctx =>
        {
            // Over the API the last active key stays: revoking it would lock out every client, the caller included.
            // Operators can still revoke it offline (EngineAdmin, with database access).
            await apiKeys.RevokeApiKeyAsync(ctx.Route("prefix"), keepOne: true);
            await ctx.EmptyAsync();
        });
    }
}
