using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Assay.Engine.Hosting;

/// <summary>
/// Kestrel refuses requests it cannot parse (a <c>%00</c> in the path, a request line or headers over its
/// limits, a timeout) before any middleware runs, answering an empty body with <c>Connection: close</c>.
/// This connection middleware gives those answers the API's JSON error shape: it watches the response
/// header blocks Kestrel writes and, for a 4xx with <c>Content-Length: 0</c> on a closing connection
/// (which the API itself never sends: its errors always carry a body), adds the JSON body.
/// Everything else passes through untouched.
/// </summary>
internal static class RejectionBodies
{
    public static ConnectionDelegate Wrap(ConnectionDelegate next) => connection =>
    {
        connection.Transport = new Pipe(connection.Transport);
        return next(connection);
    };

    sealed class Pipe(IDuplexPipe inner) : IDuplexPipe
    {
        public PipeReader Input { get; } = inner.Input;
        public PipeWriter Output { get; } = new Writer(inner.Output);
    }

    sealed class Writer(PipeWriter inner) : PipeWriter
    {
        Memory<byte> _lent; // the buffer last handed out; what Kestrel wrote is at its start on Advance

        public override void Advance(int bytes)
        {
            if (bytes > 0 && _lent.Length >= bytes && Rewrite(_lent.Span[..bytes]) is { } replacement)
            {
                var span = inner.GetSpan(replacement.Length);
                replacement.CopyTo(span);
                inner.Advance(replacement.Length);
                return;
            }
            inner.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lent = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_lent = inner.GetMemory(sizeHint)).Span;

        public override void CancelPendingFlush() => inner.CancelPendingFlush();
        public override void Complete(Exception? exception = null) => inner.Complete(exception);
        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;
        public override long UnflushedBytes => inner.UnflushedBytes;
    }

    static ReadOnlySpan<byte> StatusPrefix => "HTTP/1.1 4"u8;
    static ReadOnlySpan<byte> EmptyLength => "\r\nContent-Length: 0\r\n"u8;
    static ReadOnlySpan<byte> Closing => "\r\nConnection: close\r\n"u8;
    static ReadOnlySpan<byte> HeadersEnd => "\r\n\r\n"u8;

    /// <summary>The header block with a JSON body added, or null when <paramref name="written"/> is not a bodiless
    /// 4xx rejection (the common case: one prefix comparison).</summary>
    internal static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (!written.StartsWith(StatusPrefix) || !written.EndsWith(HeadersEnd) || written.Length < 16) return null;
        var lengthAt = written.IndexOf(EmptyLength);
        if (lengthAt < 0 || written.IndexOf(Closing) < 0) return null;
        var status = Encoding.ASCII.GetString(written.Slice(9, 3));
        var body = Encoding.UTF8.GetBytes($"{{\"error\":\"{Message(status)}\"}}");
        var headers = Encoding.ASCII.GetString(written[..(lengthAt + 2)]) + // up to the CRLF before Content-Length
                      $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n" +
                      Encoding.ASCII.GetString(written[(lengthAt + EmptyLength.Length)..]);
        return [.. Encoding.ASCII.GetBytes(headers), .. body];
    }

    static string Message(string status) => status switch
    {
        "408" => "request timed out",
        "413" => "request body too large",
        "414" => "request line too long",
        "431" => "request headers too large",
        _ => "bad request: malformed request line, target or headers",
    };
}
