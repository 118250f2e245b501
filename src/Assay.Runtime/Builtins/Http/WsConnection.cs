using System.Buffers;
using System.Net.WebSockets;

namespace Assay.Runtime.Builtins.Http;

internal sealed record WsMessage(byte[] Data, bool Binary);

/// <summary>
/// One WebSocket, client (<c>ws.connect</c>) or server (a <c>ws</c> route). Sends are serialised
/// (WebSocket allows one send at a time); a receive that timed out stays pending and is picked up
/// by the next <c>recv</c>, because cancelling a WebSocket receive aborts the connection.
/// </summary>
internal sealed class WsConnection
{
    public const int MaxMessageBytes = 64 * 1024 * 1024;
    readonly TaskCompletionSource<WebSocket> _socket = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly SemaphoreSlim _sendLock = new(1, 1);
    Task<WsMessage?>? _pendingRecv; // loop thread only

    public WsConnection() { }
    public WsConnection(WebSocket socket) => _socket.SetResult(socket);

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
    public Task<WsMessage?> Receive(CancellationToken ct) => _pendingRecv ??= ReceiveMessageAsync(ct);

    /// <summary>The result of the pending receive was delivered: the next call starts a new one.</summary>
    public void ReceiveTaken() => _pendingRecv = null;

    async Task<WsMessage?> ReceiveMessageAsync(CancellationToken ct)
    {
        var ws = await _socket.Task.ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        MemoryStream? ms = null;
        try
        {
            while (true)
            {
                if (ws.State is not (WebSocketState.Open or WebSocketState.CloseSent)) return null;
                var r = await ws.ReceiveAsync(buffer.AsMemory(), ct).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    if (ws.State == WebSocketState.CloseReceived)
                    {
                        try { await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", ct).ConfigureAwait(false); }
                        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException) { }
                    }
                    return null;
                }
                if (r.EndOfMessage && ms == null) return new WsMessage(buffer.AsSpan(0, r.Count).ToArray(), r.MessageType == WebSocketMessageType.Binary);
                ms ??= new MemoryStream();
                ms.Write(buffer, 0, r.Count);
                if (ms.Length > MaxMessageBytes) throw new IOException($"message larger than {MaxMessageBytes} bytes");
                if (r.EndOfMessage) return new WsMessage(ms.ToArray(), r.MessageType == WebSocketMessageType.Binary);
            }
        }
        catch (WebSocketException e) when (e.WebSocketErrorCode is WebSocketError.ConnectionClosedPrematurely or WebSocketError.InvalidState)
        {
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
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
