using System.Net.Http.Headers;

namespace Assay.Cli.EngineClient;

/// <summary>The engine's REST API from the command line: one call per method, JSON in and out.</summary>
public sealed class EngineApi(ClientSettings settings) : IDisposable
{
    readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public ClientSettings Settings => settings;

    /// <summary>Percent-encodes one path segment or query value (ids may hold any character).</summary>
    public static string Escape(string value) => Uri.EscapeDataString(value);

    public string NamespaceQuery => "namespace=" + Escape(settings.Namespace);

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body = null, params int[] okStatuses)
    {
        var (status, text) = await SendRawAsync(method, path, body);
        if (okStatuses.Length == 0 ? status is < 200 or >= 300 : !okStatuses.Contains(status))
            throw new ClientException(DescribeFailure(status, text));
        return ParseBody(text);
    }

    public async Task<(int Status, string Body)> SendRawAsync(HttpMethod method, string path, JsonNode? body = null)
    {
        using var request = new HttpRequestMessage(method, settings.EngineUrl + "/api/v1" + path);
        if (settings.ApiKey is { } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body != null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        try
        {
            using var response = await _http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e)
        {
            throw new ClientException($"cannot reach the engine at {settings.EngineUrl}: {e.Message}");
        }
        catch (TaskCanceledException)
        {
            throw new ClientException($"the engine at {settings.EngineUrl} did not answer within 30 s");
        }
    }

    static JsonNode? ParseBody(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try { return JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { throw new ClientException("the engine answered with malformed JSON"); }
    }

    static string DescribeFailure(int status, string text)
    {
        string? message = null;
        try { message = JsonNode.Parse(text)?["error"]?.GetValue<string>(); } catch (Exception) { }
        return $"engine answered {status}: {message ?? (text.Length > 0 ? text : "no details")}";
    }

    public void Dispose() => _http.Dispose();
}
