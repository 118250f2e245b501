namespace Assay.Runtime.Builtins.Http;

/// <summary>One Server-Sent Event as parsed by <see cref="SseReader"/>.</summary>
internal sealed record SseEvent(string? Event, string Data, string? Id, long? Retry);

/// <summary>
/// Parses a text/event-stream body (WHATWG HTML "server-sent events"): LF, CRLF or CR line ends,
/// <c>field: value</c> (one optional space after the colon), several <c>data:</c> lines joined
/// with "\n", comments (<c>:</c>) ignored, an event dispatched at each blank line.
/// </summary>
internal sealed class SseReader(HttpResponseMessage response, Stream body, CancellationTokenSource lifetime) : IDisposable
{
    readonly StreamReader _reader = new(body, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 8192);
    bool _done;

    public CancellationToken Token => lifetime.Token;

    public async Task<SseEvent?> NextAsync()
    {
        if (_done) return null;
        string? evt = null, id = null;
        long? retry = null;
        StringBuilder? data = null;
        bool any = false;
        while (true)
        {
            var line = await _reader.ReadLineAsync(lifetime.Token).ConfigureAwait(false);
            if (line == null)
            {
                _done = true;
                // A final event without its blank line is dropped, as the spec says.
                return null;
            }
            if (line.Length == 0)
            {
                if (!any) continue;
                return new SseEvent(evt, data?.ToString() ?? "", id, retry);
            }
            if (line[0] == ':') continue;
            int colon = line.IndexOf(':');
            string field = colon < 0 ? line : line[..colon];
            string value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.Length > 0 && value[0] == ' ') value = value[1..];
            switch (field)
            {
                case "event": evt = value; any = true; break;
                case "data":
                    if (data == null) data = new StringBuilder(value);
                    else data.Append('\n').Append(value);
                    any = true;
                    break;
                case "id": if (!value.Contains('\0')) { id = value; any = true; } break;
                case "retry": if (long.TryParse(value, out var r)) { retry = r; any = true; } break;
            }
        }
    }

    public void Dispose()
    {
        _done = true;
        try { lifetime.Cancel(); } catch (ObjectDisposedException) { }
        _reader.Dispose();
        response.Dispose();
        lifetime.Dispose();
    }
}
