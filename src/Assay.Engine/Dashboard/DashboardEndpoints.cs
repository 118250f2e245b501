namespace Assay.Engine.Dashboard;

/// <summary>
/// The dashboard at <c>/workflow/</c>: a single page (vanilla JS) embedded in the binary. Its files
/// are anonymous; its API calls carry the API key the user enters (kept in localStorage), and its
/// live updates use the event stream with <c>access_token</c>. Assets are never cached
/// (<c>no-cache, no-store, must-revalidate</c>), so an upgraded engine serves its own UI at once.
/// </summary>
internal static class DashboardEndpoints
{
    static readonly Dictionary<string, (byte[] Body, string Type)> Assets = Load();

    static Dictionary<string, (byte[], string)> Load()
    {
        var asm = typeof(DashboardEndpoints).Assembly;
        var map = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal)))
        {
            using var s = asm.GetManifestResourceStream(name)!;
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            var file = name["dashboard/".Length..];
            map[file] = (ms.ToArray(), Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            });
        }
        return map;
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", ctx => Redirect(ctx));
        app.MapGet("/favicon.ico", ctx => Serve(ctx, "favicon.svg"));
        // Routing treats /workflow and /workflow/ alike: one route, the bare form redirected so relative URLs work.
        // Known files by name; any other path under /workflow/ is the single page (client-side routes).
        app.MapGet("/workflow/{*path}", ctx =>
        {
            if (ctx.Request.Path.Value == "/workflow") return Redirect(ctx);
            var path = ctx.Request.RouteValues["path"] as string ?? "";
            return Serve(ctx, Assets.ContainsKey(path) ? path : "index.html");
        });
    }

    static Task Redirect(HttpContext ctx)
    {
        ctx.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        ctx.Response.Headers.Location = "/workflow/";
        return Task.CompletedTask;
    }

    /// <summary>Same-origin everything, no inline script or style (the assets have none), never framed.</summary>
    internal const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    static async Task Serve(HttpContext ctx, string file)
    {
        var (body, type) = Assets[file];
        ctx.Response.ContentType = type;
        ctx.Response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        // The page only loads its own files and talks to its own API: anything injected or framed is refused.
        ctx.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        ctx.Response.Headers.XFrameOptions = "DENY";
        ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
        await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
    }
}
