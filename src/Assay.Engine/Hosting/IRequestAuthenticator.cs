namespace Assay.Engine.Hosting;

/// <summary>
/// The seam for authentication (API keys, JWT — a later issue). Applied to every /api/v1 route
/// except health and version. Null in <see cref="EngineOptions.Authenticator"/> means open access.
/// </summary>
public interface IRequestAuthenticator
{
    /// <summary>Shown in the start-up log, e.g. "api-key".</summary>
    string Description { get; }

    /// <summary>Null when the request may proceed; otherwise the reason, answered as 401.</summary>
    ValueTask<string?> AuthenticateAsync(HttpContext context);
}
