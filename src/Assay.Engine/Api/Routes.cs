using Assay.Engine.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Assay.Engine.Api;

/// <summary>
/// The route table. Everything lives under /api/v1. Anonymous routes (health, version) are mapped
/// outside the guarded group; every other group goes through the authenticator when one is
/// configured. Later groups (schedule firing, SSE, OpenAPI, dashboard, metrics, API keys) plug in
/// here the same way.
/// </summary>
internal static class Routes
{
    public const string Prefix = "/api/v1";

    public static void Map(WebApplication app, WorkflowEngine engine, EngineOptions options, IRequestAuthenticator? authenticator)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Assay.Engine.Api");
        app.Use((HttpContext ctx, RequestDelegate next) => HandleErrorsAsync(ctx, next, logger));

        var open = app.MapGroup(Prefix);
        open.MapGet("/health", ctx => ctx.WriteAsync(200, w =>
        {
            w.WriteStartObject();
            w.WriteString("status", "ok");
            w.WriteString("service", "assay-workflow");
            w.WriteEndObject();
        }));
        open.MapGet("/version", ctx => ctx.WriteAsync(200, w =>
        {
            w.WriteStartObject();
            w.WriteString("version", options.Version ?? EngineOptions.DefaultVersion);
#if DEBUG
            w.WriteString("build_profile", "debug");
#else
            w.WriteString("build_profile", "release");
#endif
            w.WriteString("backend", engine.Store.BackendName);
            w.WriteEndObject();
        }));

        var api = app.MapGroup(Prefix);
        OpenApiEndpoints.Map(open, app, options.Version ?? EngineOptions.DefaultVersion);
        if (authenticator is { } auth)
            app.Use(async (HttpContext ctx, RequestDelegate next) =>
            {
                if (IsGuarded(ctx.Request.Path) && await auth.AuthenticateAsync(ctx) is { } reason)
                    await ctx.ErrorAsync(StatusCodes.Status401Unauthorized, reason);
                else
                    await next(ctx);
            });

        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        WorkflowEndpoints.Map(api, engine);
        TaskEndpoints.Map(api, engine, lifetime, options.RequireLeaseToken);
        RegistryEndpoints.Map(api, engine);
        ApiKeyEndpoints.Map(api, engine);
        EventStreamEndpoints.Map(api, engine, options.SseKeepAlive, lifetime);
        MetricsEndpoints.Map(app, engine);
        Dashboard.DashboardEndpoints.Map(app);

        // No fallback route: routing answers a known path with the wrong method 405 (a catch-all would turn
        // that into 404), and HandleErrorsAsync gives both their JSON body.
    }

    /// <summary>Every failure becomes a JSON error; only engine faults are 500, and their text is never sent.</summary>
    static async Task HandleErrorsAsync(HttpContext ctx, RequestDelegate next, ILogger logger)
    {
        try
        {
            if (ctx.Request.Path.Value!.Length + ctx.Request.QueryString.Value!.Length > Limits.MaxPathBytes)
            {
                await ctx.ErrorAsync(StatusCodes.Status414UriTooLong, $"request path too long ({Limits.MaxPathBytes} bytes at most)");
                return;
            }
            await next(ctx);
            if (ctx.Response.HasStarted) return;
            if (ctx.Response.StatusCode == StatusCodes.Status405MethodNotAllowed)
                await ctx.ErrorAsync(405, $"method {ctx.Request.Method} not allowed on {ctx.Request.Path}");
            else if (ctx.Response.StatusCode == StatusCodes.Status404NotFound && ctx.GetEndpoint() is null)
                await ctx.ErrorAsync(404, $"no route for {ctx.Request.Method} {ctx.Request.Path}");
        }
        catch (EngineException e) when (!ctx.Response.HasStarted)
        {
            await ctx.ErrorAsync(Http.StatusOf(e.Kind), e.Message);
        }
        catch (BadHttpRequestException e) when (!ctx.Response.HasStarted)
        {
            var message = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "request body too large" : "bad request";
            await ctx.ErrorAsync(e.StatusCode, message);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception e) when (!ctx.Response.HasStarted && StoreUnavailable(e))
        {
            // The database is down or refusing connections: the request may succeed later, so say so.
            logger.LogWarning("Store unavailable on {Method} {Path}: {Message}", ctx.Request.Method, ctx.Request.Path, e.Message);
            ctx.Response.Headers.RetryAfter = "2";
            await ctx.ErrorAsync(StatusCodes.Status503ServiceUnavailable, "database unavailable; retry later");
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            logger.LogError(e, "Unhandled error on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
            await ctx.ErrorAsync(StatusCodes.Status500InternalServerError, "internal error");
        }
    }

    /// <summary>Failures that say the database cannot be reached or is overloaded right now (not that the request is
    /// wrong): PostgreSQL connection errors, shutdowns and connection limits; SQLite busy, I/O errors and a full disk.</summary>
    internal static bool StoreUnavailable(Exception e) => e switch
    {
        Npgsql.NpgsqlException { IsTransient: true } => true,
        Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 5 or 6 or 10 or 13 or 14 } => true, // BUSY LOCKED IOERR FULL CANTOPEN
        _ => e.InnerException is { } inner && StoreUnavailable(inner),
    };

    /// <summary>Probes, version, the API description and the dashboard's static files stay anonymous
    /// (orchestrators and browsers reach them under auth); everything else needs a credential.</summary>
    internal static bool IsGuarded(PathString path) =>
        !(path.StartsWithSegments(Prefix + "/health") || path.StartsWithSegments(Prefix + "/version") ||
          path.StartsWithSegments(Prefix + "/openapi.json") || path.StartsWithSegments(Prefix + "/docs") ||
          path.StartsWithSegments("/workflow") || path == "/" || path.StartsWithSegments("/favicon.ico"));
}
