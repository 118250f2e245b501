using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Assay.Runtime.Builtins.Http;

/// <summary>
/// The server side of one SSE response: a bounded queue of serialised events (32; <c>send</c>
/// waits when it is full — backpressure) between the Lua <c>send</c> and the Kestrel writer.
/// </summary>
internal sealed class SseServerStream
{
    public const string ClosedMessage = "SSE stream closed";
    readonly Channel<byte[]> _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(32)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    readonly CancellationTokenSource _closed = new();

    public bool IsClosed => _closed.IsCancellationRequested;
    public ChannelReader<byte[]> Reader => _channel.Reader;

    /// <summary>The client went away (or the response ended): later sends fail.</summary>
    public void ClientGone()
    {
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        _channel.Writer.TryComplete();
    }

    /// <summary>The Lua function returned: the writer drains what is queued and ends the response.</summary>
    public void Finish() => _channel.Writer.TryComplete();

    public Task? Write(byte[] chunk)
    {
        if (_channel.Writer.TryWrite(chunk)) return null;
        return WriteSlowAsync(chunk);
    }

    async Task WriteSlowAsync(byte[] chunk)
    {
        try
        {
            await _channel.Writer.WriteAsync(chunk, _closed.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new IOException(ClosedMessage);
        }
    }
}

internal static class ServerStreams
{
    static readonly byte[] KeepAliveComment = ": keep-alive\n\n"u8.ToArray();

    /// <summary>Writes queued events as they come, a keep-alive comment when idle, until the function ends or the client leaves.</summary>
    public static async Task PumpSseAsync(HttpContext ctx, SseServerStream stream, TimeSpan keepAlive)
    {
        var resp = ctx.Response;
        var ct = ctx.RequestAborted;
        var reader = stream.Reader;
        try
        {
            await resp.StartAsync(ct).ConfigureAwait(false);
            await resp.Body.FlushAsync(ct).ConfigureAwait(false);
            Task<bool>? waiting = null;
            while (true)
            {
                waiting ??= reader.WaitToReadAsync(ct).AsTask();
                if (!waiting.IsCompleted)
                {
                    using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    var delay = Task.Delay(keepAlive, delayCts.Token);
                    if (await Task.WhenAny(waiting, delay).ConfigureAwait(false) != waiting)
                    {
                        await resp.Body.WriteAsync(KeepAliveComment, ct).ConfigureAwait(false);
                        await resp.Body.FlushAsync(ct).ConfigureAwait(false);
                        continue;
                    }
                    delayCts.Cancel();
                }
                if (!await waiting.ConfigureAwait(false)) break;
                waiting = null;
                while (reader.TryRead(out var chunk)) await resp.Body.WriteAsync(chunk, ct).ConfigureAwait(false);
                await resp.Body.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ChannelClosedException) { }
        finally
        {
            stream.ClientGone();
        }
    }

    /// <summary>sse_send(id, event): event is a table {event, data, id, retry, comment} or a string (data).</summary>
    public static int SseSend(LuaCall call, WebState st)
    {
        var L = call.L;
        var stream = st.Get<SseServerStream>(call.CheckInteger(1));
        if (stream == null || stream.IsClosed) return call.Fail(SseServerStream.ClosedMessage);
        var sb = new StringBuilder();
        if (L.TypeOf(2) == LuaType.String || L.TypeOf(2) == LuaType.Number)
        {
            AppendData(sb, L.ToStringValue(2)!);
        }
        else if (L.TypeOf(2) == LuaType.Table)
        {
            L.CheckStack(4);
            if (L.RawGetField(2, "comment") != LuaType.Nil)
            {
                foreach (var line in (L.ToStringValue(-1) ?? "").Split('\n')) sb.Append(": ").Append(line.TrimEnd('\r')).Append('\n');
            }
            L.Pop(1);
            if (L.RawGetField(2, "event") != LuaType.Nil)
            {
                var ev = L.ToStringValue(-1) ?? "";
                if (ev.AsSpan().IndexOfAny('\r', '\n') >= 0) { L.Pop(1); return call.Fail("'event' must not contain CR or LF"); }
                sb.Append("event: ").Append(ev).Append('\n');
            }
            L.Pop(1);
            var dt = L.RawGetField(2, "data");
            if (dt == LuaType.Table)
            {
                try { AppendData(sb, Encoding.UTF8.GetString(JsonEncoder.Encode(L, -1))); }
                catch (LuaValueException e) { L.Pop(1); e.Prefix = "data: "; return call.Fail(e.Message); }
            }
            else if (dt != LuaType.Nil) AppendData(sb, L.ToStringValue(-1) ?? "");
            L.Pop(1);
            if (L.RawGetField(2, "id") != LuaType.Nil)
            {
                var id = L.ToStringValue(-1) ?? "";
                if (id.AsSpan().IndexOfAny('\r', '\n') >= 0 || id.Contains('\0')) { L.Pop(1); return call.Fail("'id' must not contain CR, LF or NUL"); }
                sb.Append("id: ").Append(id).Append('\n');
            }
            L.Pop(1);
            if (L.RawGetField(2, "retry") != LuaType.Nil)
            {
                if (!L.TryGetInteger(-1, out long retry) || retry < 0) { L.Pop(1); return call.Fail("'retry' must be an integer >= 0"); }
                sb.Append("retry: ").Append(retry).Append('\n');
            }
            L.Pop(1);
        }
        else return call.Fail($"expected an event table or a string, got {call.TypeName(2)}");
        if (sb.Length == 0) return 0;
        sb.Append('\n');
        var pending = stream.Write(Encoding.UTF8.GetBytes(sb.ToString()));
        return pending == null ? 0 : call.Await(pending);
    }

    /// <summary>data: one line per line of the value (LF, CRLF or CR split it).</summary>
    static void AppendData(StringBuilder sb, string data)
    {
        foreach (var line in data.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n')) sb.Append("data: ").Append(line).Append('\n');
    }

    /// <summary>Accepts the upgrade, hands the socket to the Lua side, and holds the request open until the ws function ends.</summary>
    public static async Task RunWebSocketAsync(HttpContext ctx, WsConnection conn, WebState st)
    {
        WebSocket socket;
        try
        {
            socket = await ctx.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            conn.Fail(e);
            return;
        }
        conn.Accept(socket);
        using var reg = ctx.RequestAborted.Register(() => conn.Abort());
        await conn.Done.ConfigureAwait(false);
    }
}
