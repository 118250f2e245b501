using System.Net.WebSockets;
using System.Text.Unicode;
using Assay.Runtime.Builtins.Http;

namespace Assay.Runtime.Builtins;

/// <summary>
/// The <c>ws</c> module: WebSocket client (<c>ws.connect</c>) and the connection objects shared
/// with <c>http.serve</c>'s WebSocket routes. Natives here; the objects are prelude/ws.lua.
/// Reference page: docs/modules/ws.md.
/// </summary>
public static class WsModule
{
    public static void Register(AssayRuntime rt)
    {
        var st = WebState.Of(rt);
        var vm = rt.Vm;
        rt.RunPrelude("ws", L =>
        {
            L.NewTable();
            vm.SetFunction(L, -1, "ws.connect", "connect", call => Connect(call, st));
            vm.SetFunction(L, -1, "ws.send", "send", call => Send(call, st));
            vm.SetFunction(L, -1, "ws.recv", "recv", call => Recv(call, st));
            vm.SetFunction(L, -1, "ws.close", "close", call => Close(call, st));
            vm.SetFunction(L, -1, "ws.free", "free", call => Free(call, st));
            return 1;
        }, nresults: 1);
        vm.Main.RawSetField(LuaState.RegistryIndex, WebState.WsHooksKey);
    }

    /// <summary>connect(url, opts) → connection id, negotiated subprotocol ("" when none).</summary>
    static int Connect(LuaCall call, WebState st)
    {
        var L = call.L;
        var url = call.CheckStrictString(1, "URL string");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("ws" or "wss" or "http" or "https"))
            return call.Fail($"invalid URL '{url}' (expected ws:// or wss://)");
        var options = call.Options(2, ["headers", "timeout", "protocols", "max_message"]);
        double timeout = options.Number("timeout") ?? 30;
        int maxMessage = (int)(options.Integer("max_message", min: 1, max: MaxMessageLimit) ?? WsConnection.DefaultClientMaxMessage);
        var headers = new List<(string, string)>();
        var headersType = options.Push("headers");
        if (headersType == LuaType.Table)
        {
            L.CheckStack(3);
            L.PushNil();
            while (L.Next(-2))
            {
                var name = L.TypeOf(-2) == LuaType.String ? L.ToStringValue(-2) : null;
                var value = L.ToStringValue(-1);
                L.Pop(1);
                if (name == null || value == null || !HeaderRules.IsValidName(name) || !HeaderRules.IsValidValue(value))
                    return call.Fail($"invalid header '{name}'");
                headers.Add((name, value));
            }
        }
        else if (headersType != LuaType.Nil) return call.Fail($"option 'headers' must be a table, got {call.TypeName(-1)}");
        L.Pop(1);
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        foreach (var (name, value) in headers) socket.Options.SetRequestHeader(name, value);
        if (options.Push("protocols") == LuaType.Table)
        {
            for (long i = 1; L.RawGetIndex(-1, i) == LuaType.String; i++)
            {
                socket.Options.AddSubProtocol(L.ToStringValue(-1)!);
                L.Pop(1);
            }
            L.Pop(1);
        }
        L.Pop(1);
        var task = ConnectAsync(socket, uri, timeout, maxMessage, call.Vm.Cancellation);
        return call.Await(task, (L, r) => PushConnected(L, st, r));
    }

    /// <summary>The largest max_message accepted (server option and client option alike).</summary>
    internal const long MaxMessageLimit = 1L << 30;

    static async Task<(WsConnection Conn, string? Protocol)> ConnectCore(ClientWebSocket socket, Uri uri, double timeout, int maxMessage, CancellationToken vm)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(vm);
        if (timeout > 0 && !double.IsInfinity(timeout)) cts.CancelAfter(TimeSpan.FromSeconds(timeout));
        try
        {
            await socket.ConnectAsync(uri, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!vm.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"connect to {uri} timed out after {timeout} s");
        }
        catch (WebSocketException e)
        {
            socket.Dispose();
            throw new IOException(e.InnerException?.Message is { } inner ? $"{e.Message} ({inner})" : e.Message);
        }
        return (new WsConnection(socket, maxMessage), socket.SubProtocol);
    }

    static async Task<ConnectResult> ConnectAsync(ClientWebSocket socket, Uri uri, double timeout, int maxMessage, CancellationToken vm)
    {
        var (conn, protocol) = await ConnectCore(socket, uri, timeout, maxMessage, vm).ConfigureAwait(false);
        return new ConnectResult(conn, protocol);
    }

    sealed record ConnectResult(WsConnection Conn, string? Protocol);

    static int PushConnected(LuaState L, WebState st, ConnectResult r)
    {
        L.PushInteger(st.Add(r.Conn));
        L.PushString(r.Protocol ?? "");
        return 2;
    }

    static WsConnection? Get(LuaCall call, WebState st) => st.Get<WsConnection>(call.CheckInteger(1));

    /// <summary>send(id, data, kind): kind "binary"/"text"/nil (nil: text when valid UTF-8).</summary>
    static int Send(LuaCall call, WebState st)
    {
        var conn = Get(call, st);
        if (conn == null) return call.Fail("connection closed");
        var data = call.CheckBytes(2).ToArray();
        bool binary = call.L.TypeOf(3) switch
        {
            LuaType.String => call.L.ToStringValue(3) switch
            {
                "binary" => true,
                "text" => false,
                var k => throw new BuiltinError($"unknown message kind '{k}' (expected \"text\" or \"binary\")"),
            },
            LuaType.Boolean => call.L.ToBoolean(3),
            _ => !Utf8.IsValid(data),
        };
        if (!binary && !Utf8.IsValid(data)) return call.Fail("a text message must be valid UTF-8 (send it as \"binary\")");
        return call.Await(conn.SendAsync(data, binary, call.Vm.Cancellation));
    }

    /// <summary>recv(id, timeout?) → data, "text"|"binary" | nil, "closed".</summary>
    static int Recv(LuaCall call, WebState st)
    {
        var conn = Get(call, st);
        if (conn == null) { call.L.PushNil(); call.L.PushString("closed"); return 2; }
        double? timeout = call.L.IsNoneOrNil(2) ? null : call.CheckNumber(2);
        if (timeout is { } t && (double.IsNaN(t) || t < 0)) return call.Fail("timeout must be a number of seconds >= 0");
        var task = conn.Receive(call.Vm.Cancellation);
        if (timeout is { } secs && !double.IsInfinity(secs) && !task.IsCompleted) task = WithTimeout(task, secs);
        return call.Await(task, (L, m) =>
        {
            conn.ReceiveTaken();
            if (m == null)
            {
                L.PushNil();
                L.PushString("closed");
                return 2;
            }
            try
            {
                L.PushBytes(m.Data);
            }
            finally
            {
                m.Release(); // the bytes live in Lua now; the buffer goes back to the pool
            }
            L.PushString(m.Binary ? "binary" : "text");
            return 2;
        });
    }

    static async Task<WsMessage?> WithTimeout(Task<WsMessage?> task, double secs)
    {
        try
        {
            return await task.WaitAsync(TimeSpan.FromSeconds(secs)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timeout after {secs} s");
        }
    }

    /// <summary>close(id, code?, reason?): sends a close frame.</summary>
    static int Close(LuaCall call, WebState st)
    {
        var conn = Get(call, st);
        if (conn == null) return 0;
        long code = call.OptInteger(2, 1000);
        if (code is < 1000 or > 4999) return call.Fail("close code must be 1000-4999");
        var reason = call.OptString(3) ?? "";
        return call.Await(SwallowClosed(conn.CloseAsync((WebSocketCloseStatus)code, reason)));
    }

    static async Task SwallowClosed(Task t)
    {
        try { await t.ConfigureAwait(false); }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException) { }
    }

    /// <summary>free(id): a client connection object was collected.</summary>
    static int Free(LuaCall call, WebState st)
    {
        st.Free<WsConnection>(call.CheckInteger(1));
        return 0;
    }
}
