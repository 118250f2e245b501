using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Assay.Engine.Tests.Infrastructure;

/// <summary>A thin HTTP client for the engine's REST API (real HTTP on 127.0.0.1).</summary>
public sealed class EngineClient(string baseUrl) : IDisposable
{
    static readonly SocketsHttpHandler Handler = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 256 };
    readonly HttpClient _http = new(Handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(60) };

    public string BaseUrl { get; } = baseUrl;

    public Task<Reply> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);
    public Task<Reply> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);
    public Task<Reply> PostAsync(string path, object? body = null, CancellationToken ct = default) => SendAsync(HttpMethod.Post, path, body, ct);
    public Task<Reply> PatchAsync(string path, object? body) => SendAsync(HttpMethod.Patch, path, body);

    /// <summary>Body: a string is sent verbatim (raw JSON, or anything malformed); a JsonNode is serialised.</summary>
    public async Task<Reply> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct = default)
    {
        using var req = new HttpRequestMessage(method, BaseUrl + "/api/v1" + path);
        if (body is not null)
        {
            var text = body switch
            {
                string s => s,
                JsonNode n => n.ToJsonString(),
                _ => throw new ArgumentException("body must be a string or JsonNode"),
            };
            req.Content = new StringContent(text, Encoding.UTF8, "application/json");
        }
        using var resp = await _http.SendAsync(req, ct);
        return new Reply(resp.StatusCode, await resp.Content.ReadAsStringAsync(ct), resp.Content.Headers.ContentType?.MediaType);
    }

    public void Dispose() => _http.Dispose();
}

public sealed record Reply(HttpStatusCode Status, string Body, string? ContentType)
{
    public int Code => (int)Status;
    public JsonNode? Json => Body.Length == 0 ? null : JsonNode.Parse(Body);
    public JsonObject Obj => Json as JsonObject ?? throw new InvalidOperationException($"not an object: {Body}");
    public JsonArray Arr => Json as JsonArray ?? throw new InvalidOperationException($"not an array: {Body}");

    /// <summary>Every error answer is JSON {"error": "..."}.</summary>
    public string Error => Json is JsonObject o && o["error"] is JsonValue v ? v.GetValue<string>() : throw new InvalidOperationException($"no error field: {Code} {Body}");

    public Reply Expect(int code)
    {
        if (Code != code) throw new Xunit.Sdk.XunitException($"expected HTTP {code}, got {Code}: {Body}");
        return this;
    }

    public override string ToString() => $"{Code} {Body}";
}

public static class JsonExt
{
    public static string Str(this JsonNode? n) => n!.GetValue<string>();
    public static long Long(this JsonNode? n) => n!.GetValue<long>();
    public static double Num(this JsonNode? n) => n!.GetValue<double>();

    /// <summary>Decodes a double-encoded JSON string column (input/result/search_attributes/payload).</summary>
    public static JsonNode? Decode(this JsonNode? n) => n is null ? null : JsonNode.Parse(n.GetValue<string>());

    public static JsonObject O(params (string Key, JsonNode? Value)[] props)
    {
        var o = new JsonObject();
        foreach (var (k, v) in props) o[k] = v;
        return o;
    }

    public static JsonArray A(params JsonNode?[] items) => new(items);
}
