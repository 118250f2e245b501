using Assay.Engine.Hosting;

namespace Assay.Engine.Auth;

/// <summary>
/// The engine's own authenticator: API keys (looked up by SHA-256, compared in constant time,
/// revocable), JWTs from an OIDC issuer, or both. A JWT-shaped token is only ever judged as a JWT
/// (an expired JWT is not retried as an API key). The bearer token comes from
/// <c>Authorization: Bearer …</c>; the event stream also accepts <c>?access_token=</c> because
/// browsers' EventSource cannot send headers.
/// </summary>
public sealed class EngineAuthenticator(IApiKeyStore store, bool apiKeys, JwtValidator? jwt) : IRequestAuthenticator, IDisposable
{
    public string Description => (jwt, apiKeys) switch
    {
        (null, false) => "no-auth (open access)",
        (null, true) => "api-key",
        ({ } j, false) => $"jwt (issuer: {j.Issuer})",
        ({ } j, true) => $"jwt (issuer: {j.Issuer}) + api-key",
    };

    public JwtValidator? Jwt => jwt;

    public async ValueTask<string?> AuthenticateAsync(HttpContext context)
    {
        var token = BearerToken(context);
        if (token is null) return "Missing Authorization: Bearer <token>";
        if (JwtValidator.LooksLikeJwt(token))
        {
            if (jwt is null) return "JWT authentication is not enabled on this server";
            return await jwt.ValidateAsync(token, context.RequestAborted) is { } reason ? $"JWT validation failed: {reason}" : null;
        }
        if (!apiKeys) return "Token is not a valid JWT and API-key authentication is not enabled";
        return await store.CheckApiKeyAsync(ApiKeys.Hash(token)) ? null : "Invalid API key";
    }

    static string? BearerToken(HttpContext ctx)
    {
        var h = ctx.Request.Headers.Authorization.ToString();
        if (h.StartsWith("Bearer ", StringComparison.Ordinal) && h.Length > 7) return h[7..].Trim();
        if (ctx.Request.Path.StartsWithSegments("/api/v1/events/stream") && ctx.Request.Query["access_token"].ToString() is { Length: > 0 } q)
            return q;
        return null;
    }

    public void Dispose() => jwt?.Dispose();
}
