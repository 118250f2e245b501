using System.Text.Json.Serialization.Metadata;

namespace Assay.Engine.Api;

/// <summary>Response and request helpers shared by the endpoint groups.</summary>
internal static class Http
{
    public static string Route(this HttpContext ctx, string name) =>
        JsonBody.Text(ctx.Request.RouteValues[name] as string ?? throw EngineException.Invalid($"missing path parameter '{name}'"), name);

    public static long RouteId(this HttpContext ctx, string name) =>
        long.TryParse(ctx.Route(name), out var id) ? id : throw EngineException.Invalid($"path parameter '{name}' must be an integer id");

    public static string? Query(this HttpContext ctx, string name)
    {
        var v = ctx.Request.Query[name];
        return v.Count == 0 || string.IsNullOrEmpty(v[0]) ? null : JsonBody.Text(v[0]!, name);
    }

    /// <summary>The namespace a request addresses (query <c>namespace</c>, default <c>main</c>).</summary>
    public static string Namespace(this HttpContext ctx) => ctx.Query("namespace") ?? "main";

    public static async Task JsonAsync<T>(this HttpContext ctx, int status, T value, JsonTypeInfo<T> info)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, value, info, ctx.RequestAborted);
    }

    public static async Task WriteAsync(this HttpContext ctx, int status, Action<Utf8JsonWriter> write)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await using (var w = new Utf8JsonWriter(ctx.Response.BodyWriter, JsonText.WriterOptions))
            write(w);
        await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted);
    }

    /// <summary>Success without a body: 200 and nothing, as the reference answers (clients check the status only).</summary>
    public static Task EmptyAsync(this HttpContext ctx, int status = StatusCodes.Status200OK)
    {
        ctx.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    public static Task ErrorAsync(this HttpContext ctx, int status, string message) =>
        ctx.WriteAsync(status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        });

    public static int StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status400BadRequest,
    };
}
