using System.Buffers;
using System.Net.WebSockets;

namespace Assay.Runtime.Builtins.Http;

/// <summary>
/// One received message in a pooled buffer: the consumer copies <see cref="Data"/> (into Lua)
/// and calls <see cref="Release"/>, so a connection holds no message memory between messages.
/// </summary>
internal sealed class WsMessage(byte[] buffer, int length, bool binary)
{
    byte[]? _buffer = buffer;
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(0, length);
    public bool Binary => binary;

    public void Release()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b != null) ArrayPool<byte>.Shared.Return(b);
    }
}

/// <summary>A peer sent a message over the connection's max_message: the connection was closed with 1009.</summary>
internal sealed class WsMessageTooBigException(long max)
    : IOException($"message larger than {max} bytes (max_message); the connection was closed with 1009");

/// <summary>
/// One WebSocket, client (<c>ws.connect</c>) or server (a <c>ws</c> route). Sends are serialised
/// (WebSocket allows one send at a time); a receive that timed out stays pending and is picked up
/// by the next <c>recv</c>, because cancelling a WebSocket receive aborts the connection.
/// </summary>
internal sealed class WsConnection : IDisposable
{
    /// <summary>Defaults for the largest message a peer may send: http.serve's ws routes and ws.connect.</summary>
    public const int DefaultServerMaxMessage = 1024 * 1024, DefaultClientMaxMessage = 16 * 1024 * 1024;
    readonly int _maxMessage;
    readonly TaskCompletionSource<WebSocket> _socket = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly SemaphoreSlim _sendLock = new(1, 1);
    Task<WsMessage?>? _pendingRecv; // loop thread only

    public WsConnection(int maxMessage) => _maxMessage = maxMessage;
    public WsConnection(WebSocket socket, int maxMessage) : this(maxMessage) => _socket.SetResult(socket);

    public Task Done => _done.Task;
    public void Accept(WebSocket socket) => _socket.TrySetResult(socket);

    public void Fail(Exception e)
    {
        _socket.TrySetException(e);
        _done.TrySetResult();
    }

    public void Abort()
    {
        if (_socket.Task.IsCompletedSuccessfully) _socket.Task.Result.Abort();
        else _socket.TrySetException(new IOException("connection closed"));
    }

    /// <summary>The Lua side is done with a server connection: close it and let the request end.</summary>
    public void Finish(bool ok) => _ = FinishAsync(ok);

    async Task FinishAsync(bool ok)
    {
        try
        {
            await CloseAsync(ok ? WebSocketCloseStatus.NormalClosure : WebSocketCloseStatus.InternalServerError, "").ConfigureAwait(false);
        }
        catch { /* the peer is gone */ }
        finally
        {
            _done.TrySetResult();
        }
    }

    public async Task SendAsync(byte[] data, bool binary, CancellationToken ct)
    {
        var ws = await _socket.Task.ConfigureAwait(false);
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await ws.SendAsync(data, binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>The next message (null when the peer closed). Loop thread.</summary>
    public Task<WsMessage?> Receive(CancellationToken ct)
    {
        // A receive that failed (message too big, connection reset) has been reported once; the
        // next one starts afresh and finds the connection closed.
        if (_pendingRecv is { IsCompleted: true, IsCompletedSuccessfully: false }) _pendingRecv = null;
        return _pendingRecv ??= ReceiveMessageAsync(ct);
    }

    /// <summary>The result of the pending receive was delivered: the next call starts a new one.</summary>
    public void ReceiveTaken() => _pendingRecv = null;

    /// <summary>
    /// Reads one whole message into a pooled buffer that grows (doubling) up to max_message + 1
    /// bytes: memory follows the message actually sent, never more than the cap, and goes back to
    /// the pool when the message has been delivered. A larger message closes the connection (1009).
    /// </summary>
    async Task<WsMessage?> ReceiveMessageAsync(CancellationToken ct)
    {
        var ws = await _socket.Task.ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(16 * 1024, _maxMessage + 1));
        int length = 0;
        try
        {
            while (true)
            {
                if (ws.State is not (WebSocketState.Open or WebSocketState.CloseSent)) return null;
                if (length == buffer.Length) buffer = Grow(buffer, length);
                var r = await ws.ReceiveAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    if (ws.State == WebSocketState.CloseReceived)
                    {
                        try { await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", ct).ConfigureAwait(false); }
                        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException) { }
                    }
                    return null;
                }
                length += r.Count;
                if (length > _maxMessage)
                {
                    await RefuseTooBig(ws).ConfigureAwait(false);
                    throw new WsMessageTooBigException(_maxMessage);
                }
                if (r.EndOfMessage)
                {
                    var message = new WsMessage(buffer, length, r.MessageType == WebSocketMessageType.Binary);
                    buffer = null!; // owned by the message now
                    return message;
                }
            }
        }
        catch (WebSocketException e) when (e.WebSocketErrorCode is WebSocketError.ConnectionClosedPrematurely or WebSocketError.InvalidState)
        {
            return null;
        }
        finally
        {
            if (buffer != null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    byte[] Grow(byte[] buffer, int length)
    {
        // max_message + 1: one byte past the cap is enough to know the message is too big
        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)_maxMessage + 1));
        buffer.AsSpan(0, length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }

    async Task RefuseTooBig(WebSocket ws)
    {
        try { await CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big").ConfigureAwait(false); }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException) { }
        ws.Abort(); // do not read the rest of the oversized message
    }

    /// <summary>Sends a close frame (without waiting for the peer's; a pending receive sees it).</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        if (!_socket.Task.IsCompletedSuccessfully) return;
        var ws = _socket.Task.Result;
        if (ws.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _sendLock.WaitAsync(cts.Token).ConfigureAwait(false);
        try
        {
            await ws.CloseOutputAsync(status, reason, cts.Token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public void Dispose()
    {
        if (_socket.Task.IsCompletedSuccessfully) _socket.Task.Result.Dispose();
    }
}
