namespace Assay.Engine.Tests.Infrastructure;

/// <summary>A minimal Server-Sent Events client over a real HTTP connection.</summary>
public sealed class SseReader : IAsyncDisposable
{
    readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    HttpResponseMessage? _response;
    StreamReader? _reader;
    public List<string> Comments { get; } = [];
    public int Status => (int)(_response?.StatusCode ?? 0);

    public static async Task<SseReader> OpenAsync(string url, string? lastEventId = null, string? bearer = null)
    {
        var r = new SseReader();
        var req = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is not null) req.Headers.Add("Last-Event-ID", lastEventId);
        if (bearer is not null) req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        r._response = await r._http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        if (r._response.IsSuccessStatusCode) r._reader = new StreamReader(await r._response.Content.ReadAsStreamAsync());
        return r;
    }

    public string? ContentType => _response?.Content.Headers.ContentType?.MediaType;

    /// <summary>The next event (id, event name, data), or null when none arrives in time.</summary>
    public async Task<(string? Id, string Event, JsonObject Data)?> NextAsync(double timeoutSecs = 5)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSecs));
        string? id = null, ev = null, data = null;
        try
        {
            while (true)
            {
                var line = await _reader!.ReadLineAsync(cts.Token);
                if (line is null) return null;
                if (line.Length == 0)
                {
                    if (data is not null) return (id, ev ?? "message", JsonNode.Parse(data)!.AsObject());
                    continue;
                }
                if (line.StartsWith(':')) { Comments.Add(line); continue; }
                var colon = line.IndexOf(':');
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
                switch (field)
                {
                    case "id": id = value; break;
                    case "event": ev = value; break;
                    case "data": data = data is null ? value : data + "\n" + value; break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Reads events until <paramref name="done"/> holds for the collected list (or the timeout).</summary>
    public async Task<List<(string? Id, string Event, JsonObject Data)>> CollectAsync(
        Func<List<(string? Id, string Event, JsonObject Data)>, bool> done, double timeoutSecs = 5)
    {
        var list = new List<(string? Id, string Event, JsonObject Data)>();
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSecs);
        while (!done(list))
        {
            var left = (deadline - DateTime.UtcNow).TotalSeconds;
            if (left <= 0) break;
            if (await NextAsync(left) is { } e) list.Add(e);
            else break;
        }
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        _reader?.Dispose();
        _response?.Dispose();
        _http.Dispose();
        await Task.CompletedTask;
    }
}
