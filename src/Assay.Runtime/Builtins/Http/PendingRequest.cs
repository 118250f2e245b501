using Assay.Lua.Loop;
using Microsoft.AspNetCore.Http;

namespace Assay.Runtime.Builtins.Http;

/// <summary>
/// One request between the Kestrel thread that received it and the loop that runs its handler.
/// Everything the handler sees is gathered on the Kestrel thread; <see cref="Dispatch"/> (loop)
/// only pushes it and spawns the coroutine; <see cref="OnFinished"/> (loop) converts the response.
/// </summary>
internal sealed class PendingRequest
{
    readonly LuaHttpServer _server;
    readonly RouteMatch _match;
    readonly byte[] _body;
    readonly string _method, _path, _query, _rawPath;
    readonly List<KeyValuePair<string, string>> _headers = [];
    readonly List<KeyValuePair<string, string>> _params = [];
    readonly string? _remote;
    readonly bool _isWebSocket;

    public readonly TaskCompletionSource<ResponseData> Result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public readonly Action Dispatch;

    public PendingRequest(LuaHttpServer server, HttpContext ctx, RouteMatch match, byte[] body, string method, string path, bool isWebSocket)
    {
        _server = server;
        _match = match;
        _body = body;
        _method = method;
        _path = path;
        _isWebSocket = isWebSocket;
        _rawPath = RawPath(ctx) ?? path;
        var qs = ctx.Request.QueryString.Value;
        _query = string.IsNullOrEmpty(qs) ? "" : qs[1..];
        foreach (var h in ctx.Request.Headers)
            _headers.Add(new(LowerName(h.Key), h.Value.Count == 1 ? h.Value[0] ?? "" : string.Join(", ", h.Value.ToArray())));
        if (_query.Length > 0) ParseQuery(_query, _params);
        if (match.Params != null) _params.AddRange(match.Params); // path parameters win over the query
        _remote = ctx.Connection.RemoteIpAddress?.ToString();
        Dispatch = DispatchOnLoop;
    }

    /// <summary>
    /// The path as the client sent it (request target up to '?'): not percent-decoded, dot segments
    /// kept — what a server checking a signature over the URL (AWS SigV4) must see.
    /// </summary>
    static string? RawPath(HttpContext ctx)
    {
        var target = ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target)) return null;
        int q = target.IndexOf('?');
        return q < 0 ? target : target[..q];
    }

    static string LowerName(string name)
    {
        foreach (var c in name)
            if (c is >= 'A' and <= 'Z') return name.ToLowerInvariant();
        return name;
    }

    /// <summary>application/x-www-form-urlencoded: '+' is a space, %XX decoded; repeated keys: the last wins.</summary>
    internal static void ParseQuery(string query, List<KeyValuePair<string, string>> into)
    {
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            var k = eq < 0 ? part : part[..eq];
            var v = eq < 0 ? "" : part[(eq + 1)..];
            into.Add(new(Decode(k), Decode(v)));
        }
    }

    static string Decode(string s)
    {
        if (s.IndexOfAny(['+', '%']) < 0) return s;
        try { return Uri.UnescapeDataString(s.Replace('+', ' ')); }
        catch (UriFormatException) { return s; }
    }

    WebState St => _server.State;

    void DispatchOnLoop()
    {
        try
        {
            var vm = St.Vm;
            var L = vm.Main;
            L.CheckStack(12);
            L.RawGetField(LuaState.RegistryIndex, "assay.http.handlers"u8);
            L.RawGetIndex(-1, _match.Handler);
            L.Remove(-2);
            PushRequest(L);
            var task = vm.Loop.Spawn(L, 1, "request", detached: true);
            task.OnFinished = OnFinished;
            _server.Track(task, () => Result.TrySetResult(LuaHttpServer.Unavailable()));
        }
        catch (Exception e)
        {
            St.Log.Error($"http.serve: {_method} {_path}: cannot start the handler: {e.Message}");
            Result.TrySetResult(LuaHttpServer.Internal());
        }
    }

    void PushRequest(LuaState L)
    {
        L.NewTable(0, 11);
        L.PushString(_method);
        L.RawSetField(-2, "method"u8);
        L.PushString(_path);
        L.RawSetField(-2, "path"u8);
        L.PushString(_rawPath);
        L.RawSetField(-2, "raw_path"u8);
        L.PushString(_query);
        L.RawSetField(-2, "query"u8);
        L.PushString(_match.Pattern);
        L.RawSetField(-2, "route"u8);
        if (_match.Tail != null)
        {
            L.PushString(_match.Tail);
            L.RawSetField(-2, "wildcard"u8);
        }
        if (_remote != null)
        {
            L.PushString(_remote);
            L.RawSetField(-2, "remote_addr"u8);
        }
        L.NewTable(0, _params.Count);
        foreach (var (k, v) in _params)
        {
            L.PushString(v);
            L.RawSetField(-2, k);
        }
        L.RawSetField(-2, "params"u8);
        L.NewTable(0, _headers.Count);
        foreach (var (k, v) in _headers)
        {
            L.PushString(v);
            L.RawSetField(-2, k);
        }
        L.RawSetField(-2, "headers"u8);
        L.PushBytes(_body);
        L.RawSetField(-2, "body"u8);
        L.RawGetField(LuaState.RegistryIndex, "assay.http.Request"u8);
        L.SetMetatable(-2);
    }

    void OnFinished(LuaTask task, LuaState L)
    {
        _server.Untrack(task);
        ResponseData r;
        try
        {
            r = Convert(task, L);
        }
        catch (Exception e)
        {
            St.Log.Error($"http.serve: {_method} {_path}: {e.Message}");
            r = LuaHttpServer.Internal();
        }
        Result.TrySetResult(r);
    }

    ResponseData Fail(string problem)
    {
        St.Log.Error($"http.serve: {_method} {_path}: {problem}");
        return LuaHttpServer.Internal();
    }

    ResponseData Convert(LuaTask task, LuaState L)
    {
        if (!task.Succeeded)
            return Fail("handler failed: " + LuaErrors.CleanTraceback(task.ErrorReport ?? "unknown error"));
        if (L.Top < 2 || L.TypeOf(2) != LuaType.Table)
            return Fail($"handler returned {(L.Top < 2 ? "nothing" : L.TypeOf(2).ToString().ToLowerInvariant())}, expected a response table");
        L.CheckStack(8);
        const int t = 2;

        int status = 200;
        if (L.RawGetField(t, "status"u8) != LuaType.Nil)
        {
            if (!L.TryGetInteger(-1, out long s) || s is < 100 or > 999) return Fail($"invalid status '{L.ToStringValue(-1)}'");
            status = (int)s;
        }
        L.Pop(1);

        var headers = new List<(string, string)>();
        bool hasContentType = false;
        if (L.RawGetField(t, "headers"u8) == LuaType.Table)
        {
            int h = L.AbsIndex(-1);
            L.PushNil();
            while (L.Next(h))
            {
                var name = L.TypeOf(-2) == LuaType.String ? L.ToStringValue(-2)! : null;
                if (name == null || !HeaderRules.IsValidName(name)) { L.Pop(3); return Fail($"invalid response header name '{name}'"); }
                if (name.Equals("content-type", StringComparison.OrdinalIgnoreCase)) hasContentType = true;
                if (L.TypeOf(-1) == LuaType.Table)
                {
                    int arr = L.AbsIndex(-1);
                    for (long i = 1; L.RawGetIndex(arr, i) != LuaType.Nil; i++)
                    {
                        var v = L.ToStringValue(-1);
                        L.Pop(1);
                        if (v == null || !HeaderRules.IsValidValue(v)) { L.Pop(3); return Fail($"invalid value for response header '{name}' (not a string, or contains CR/LF/control characters)"); }
                        headers.Add((name, v));
                    }
                    L.Pop(1); // the nil that ended the array
                }
                else
                {
                    var v = L.ToStringValue(-1);
                    if (v == null || !HeaderRules.IsValidValue(v)) { L.Pop(3); return Fail($"invalid value for response header '{name}' (not a string, or contains CR/LF/control characters)"); }
                    headers.Add((name, v));
                }
                L.Pop(1);
            }
        }
        L.Pop(1);

        if (L.RawGetField(t, "sse"u8) == LuaType.Function)
        {
            var stream = new SseServerStream();
            long id = St.Add(stream);
            if (!hasContentType) headers.Add(("Content-Type", "text/event-stream"));
            if (!headers.Any(x => x.Item1.Equals("cache-control", StringComparison.OrdinalIgnoreCase))) headers.Add(("Cache-Control", "no-cache"));
            headers.Add(("X-Accel-Buffering", "no"));
            SpawnStream(L, "run_sse", id, "sse stream", (ok, report) =>
            {
                St.Remove(id);
                stream.Finish();
                if (!ok && !report.Contains(SseServerStream.ClosedMessage, StringComparison.Ordinal))
                    St.Log.Error($"http.serve: {_method} {_path}: sse function failed: {LuaErrors.CleanTraceback(report)}");
            });
            return new ResponseData { Kind = ResponseKind.Sse, Status = status, Headers = headers, Sse = stream };
        }
        L.Pop(1);

        if (L.RawGetField(t, "ws"u8) == LuaType.Function)
        {
            if (!_isWebSocket)
            {
                L.Pop(1);
                return new ResponseData { Status = 426, Body = "websocket upgrade expected\n"u8.ToArray(), Headers = [("Content-Type", "text/plain; charset=utf-8"), ("Upgrade", "websocket")] };
            }
            if (!_server.TryOpenWebSocket())
            {
                L.Pop(1);
                St.Log.Warn($"http.serve: {_method} {_path}: refused a websocket: ws_max_connections ({_server.Options.WsMaxConnections}) are open");
                return new ResponseData { Status = 503, Body = "too many websocket connections\n"u8.ToArray(), Headers = [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "5")] };
            }
            var conn = new WsConnection(_server.Options.WsMaxMessage);
            long id = St.Add(conn);
            SpawnStream(L, null, id, "websocket", (ok, report) =>
            {
                _server.WebSocketClosed();
                St.Remove(id);
                if (!ok) St.Log.Error($"http.serve: {_method} {_path}: ws function failed: {LuaErrors.CleanTraceback(report)}");
                conn.Finish(ok);
            });
            return new ResponseData { Kind = ResponseKind.WebSocket, Status = 101, Ws = conn };
        }
        L.Pop(1);

        if (L.RawGetField(t, "file"u8) == LuaType.String)
        {
            var file = L.ToStringValue(-1)!;
            L.Pop(1);
            if (!hasContentType) headers.Add(("Content-Type", StaticFiles.ContentType(file)));
            return new ResponseData { Kind = ResponseKind.File, Status = status, Headers = headers, FilePath = file };
        }
        L.Pop(1);

        byte[] body;
        if (L.RawGetField(t, "json"u8) != LuaType.Nil)
        {
            try { body = JsonEncoder.Encode(L, -1); }
            catch (LuaValueException e)
            {
                e.Prefix = "cannot encode the json response: ";
                L.Pop(1);
                return Fail(e.Message);
            }
            if (!hasContentType) headers.Add(("Content-Type", "application/json"));
            L.Pop(1);
        }
        else
        {
            L.Pop(1);
            var bt = L.RawGetField(t, "body"u8);
            if (bt == LuaType.String) body = L.ToBytes(-1).ToArray();
            else if (bt == LuaType.Number) body = System.Text.Encoding.UTF8.GetBytes(L.ToStringValue(-1)!);
            else if (bt == LuaType.Nil) body = [];
            else { L.Pop(1); return Fail($"response body must be a string, got {bt.ToString().ToLowerInvariant()}"); }
            L.Pop(1);
            if (!hasContentType) headers.Add(("Content-Type", "text/plain; charset=utf-8"));
        }
        return new ResponseData { Status = status, Headers = headers, Body = body };
    }

    /// <summary>Spawns the streaming function on top of <paramref name="L"/> as its own task via a prelude hook.</summary>
    void SpawnStream(LuaState L, string? httpHook, long id, string name, Action<bool, string> finished)
    {
        // stack: ..., fn
        if (httpHook != null) WebState.PushHook(L, WebState.HooksKey, httpHook);
        else WebState.PushHook(L, WebState.WsHooksKey, "run_server");
        L.Insert(-2);
        L.PushInteger(id);
        var task = St.Vm.Loop.Spawn(L, 2, name, detached: true);
        task.OnFinished = (t, _) =>
        {
            _server.Untrack(t);
            finished(t.Succeeded, t.ErrorReport ?? "");
        };
        _server.Track(task, () => finished(true, "")); // cut off by the shutdown: just close the stream
    }
}
