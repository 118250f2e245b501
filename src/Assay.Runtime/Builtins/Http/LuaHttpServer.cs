using System.Runtime.InteropServices;
using Assay.Lua.Loop;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Assay.Runtime.Builtins.Http;

/// <summary>
/// One <c>http.serve</c> server: Kestrel in front, the VM's event loop behind. Kestrel threads
/// route the request, read the body (bounded by max_body) and post a <see cref="PendingRequest"/>
/// to the loop; the loop runs the handler as a coroutine and turns its response table into a
/// <see cref="ResponseData"/> that the Kestrel thread writes. Lua is only ever touched on the loop.
/// </summary>
internal sealed class LuaHttpServer
{
    readonly WebState _st;
    readonly Router _router;
    readonly ServerOptions _o;
    readonly TaskCompletionSource<bool> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    WebApplication? _app;
    int _stopping;
    CancellationTokenRegistration _onInterrupt;

    LuaHttpServer(WebState st, Router router, ServerOptions o)
    {
        _st = st;
        _router = router;
        _o = o;
    }

    public int Port { get; private set; }
    public long Id { get; private set; }
    public Task<bool> Stopped => _stopped.Task;
    IDisposable? _keepAlive;
    internal WebState State => _st;
    internal ServerOptions Options => _o;

    // ------------------------------------------------------------------ natives

    /// <summary>serve_start(port, routes, opts) → id, port.</summary>
    public static int Start(LuaCall call, WebState st)
    {
        var L = call.L;
        if (!L.TryGetInteger(1, out long port) || L.TypeOf(1) != LuaType.Number) return call.Fail("first argument must be a port number");
        if (port is < 0 or > 65535) return call.Fail($"port {port} out of range (0-65535; 0 picks a free port)");
        if (L.TypeOf(2) != LuaType.Table) return call.Fail("second argument must be a route table {METHOD = {[path] = handler}}");
        var o = ServerOptions.Read(call, 3);
        var router = new Router();
        var problem = ReadRoutes(L, 2, router, st);
        if (problem != null) return call.Fail(problem);
        router.Seal();
        var server = new LuaHttpServer(st, router, o);
        try
        {
            server.StartAsync((int)port).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            while (e is AggregateException { InnerException: { } inner }) e = inner;
            return call.Fail($"bind failed on {o.Host}:{port}: {e.Message}");
        }
        server.Id = st.Add(server);
        server._keepAlive = st.Vm.Loop.KeepAlive(); // a running server keeps the script alive (and makes Ctrl-C graceful)
        st.Servers.Add(server);
        Signals.Track(st);
        L.PushInteger(server.Id);
        L.PushInteger(server.Port);
        return 2;
    }

    static string? ReadRoutes(LuaState L, int idx, Router router, WebState st)
    {
        L.CheckStack(8);
        WebState.PushRegistryTable(L, WebState.HandlersKey);
        int handlers = L.AbsIndex(-1);
        L.PushNil();
        while (L.Next(idx))
        {
            if (L.TypeOf(-2) != LuaType.String) { L.SetTop(handlers - 1); return "route table keys must be method names (strings)"; }
            var method = L.ToStringValue(-2)!.ToUpperInvariant();
            if (!HeaderRules.IsValidName(method)) { L.SetTop(handlers - 1); return $"invalid method name '{method}'"; }
            if (L.TypeOf(-1) != LuaType.Table) { L.SetTop(handlers - 1); return $"routes for {method} must be a table {{[path] = handler}}"; }
            int paths = L.AbsIndex(-1);
            L.PushNil();
            while (L.Next(paths))
            {
                if (L.TypeOf(-2) != LuaType.String) { L.SetTop(handlers - 1); return $"{method} route paths must be strings"; }
                var path = L.ToStringValue(-2)!;
                if (L.TypeOf(-1) != LuaType.Function) { L.SetTop(handlers - 1); return $"handler for {method} {path} must be a function"; }
                int slot = ++st.HandlerSlots;
                L.PushValue(-1);
                L.RawSetIndex(handlers, slot);
                var problem = router.Add(method, path, slot);
                if (problem != null) { L.SetTop(handlers - 1); return problem; }
                L.Pop(1);
            }
            L.Pop(1);
        }
        L.Pop(1);
        return null;
    }

    /// <summary>serve_wait(id): waits until the server has stopped (http.stop, SIGTERM); returns true.</summary>
    public static int Wait(LuaCall call, WebState st)
    {
        var server = st.Get<LuaHttpServer>(call.CheckInteger(1));
        if (server == null) return call.Fail("unknown server");
        return call.Await(server.Stopped, static (L, ok) => { L.PushBoolean(ok); return 1; });
    }

    /// <summary>http.stop(port?): gracefully stops the server on that port (all servers without one); waits.</summary>
    public static int StopNative(LuaCall call, WebState st)
    {
        long? port = call.L.IsNoneOrNil(1) ? null : call.CheckInteger(1);
        var stops = st.Servers.Where(s => port == null || s.Port == port).Select(s => s.StopAsync()).ToList();
        int n = stops.Count;
        return call.Await(Task.WhenAll(stops), L => { L.PushInteger(n); return 1; });
    }

    // ------------------------------------------------------------------ Kestrel

    async Task StartAsync(int port)
    {
        var address = _o.ResolveHost();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, QuietLifetime>(); // signals are ours (Signals below)
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = _o.ShutdownTimeout);
        // Kestrel's sockets, with reading, parsing and HandleAsync on the socket thread (see InlineSocketTransport).
        builder.Services.RemoveAll<IConnectionListenerFactory>();
        builder.Services.AddSingleton<IConnectionListenerFactory, InlineSocketTransport>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = _o.MaxBody;
            k.Limits.RequestHeadersTimeout = _o.HeaderTimeout;
            k.Limits.KeepAliveTimeout = _o.KeepAliveTimeout;
            k.Limits.MaxConcurrentConnections = _o.MaxConnections;
            k.Limits.MaxConcurrentUpgradedConnections = _o.MaxConnections;
            k.ResponseHeaderEncodingSelector = static _ => Encoding.UTF8;
            k.Listen(address, port);
        });
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.Run(HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        _app = app;
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(url.Replace("*", "localhost").Replace("+", "localhost")).Port;
        // An interrupted script (Ctrl-C, --timeout) no longer runs handlers: close the sockets.
        _onInterrupt = _st.Vm.Cancellation.Register(() => _ = StopAsync(TimeSpan.FromMilliseconds(200)));
        _st.Log.Debug($"http.serve: listening on http://{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString())}:{Port}");
    }

    public Task StopAsync(TimeSpan? timeout = null)
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0) return _stopped.Task;
        return StopCoreAsync(timeout ?? _o.ShutdownTimeout);
    }

    /// <summary>Handler and stream tasks of this server still running → how to answer for them if cut off. Loop thread only.</summary>
    readonly Dictionary<long, Action> _running = [];

    int _openWebSockets; // loop thread only

    /// <summary>Counts a WebSocket against ws_max_connections; false when the cap is reached.</summary>
    internal bool TryOpenWebSocket()
    {
        if (_openWebSockets >= _o.WsMaxConnections) return false;
        _openWebSockets++;
        return true;
    }

    internal void WebSocketClosed() => _openWebSockets--;

    internal void Track(LuaTask task, Action onCutOff) => _running[task.Id] = onCutOff;
    internal void Untrack(LuaTask task) => _running.Remove(task.Id);

    /// <summary>
    /// The shutdown timeout has passed: handlers still waiting (a sleep, a slow query) are stopped
    /// and their requests answered 503, so the script — and the process — can end within
    /// shutdown_timeout instead of living on until the last handler returns.
    /// </summary>
    void CutOffRunning()
    {
        if (_running.Count == 0) return;
        _st.Log.Warn($"http.serve: {_running.Count} handler(s) still running after the shutdown timeout on port {Port}: stopped");
        foreach (var (id, onCutOff) in _running.ToList())
        {
            _st.Vm.Loop.Cancel(id);
            onCutOff();
        }
        _running.Clear();
    }

    async Task StopCoreAsync(TimeSpan timeout)
    {
        try
        {
            if (_app != null)
            {
                using var cts = new CancellationTokenSource(timeout);
                // At the deadline the handlers still running are stopped at once (Kestrel's own
                // abort would otherwise wait on them), so the process can end within shutdown_timeout.
                using (cts.Token.Register(() => _st.Vm.Loop.Post(CutOffRunning)))
                {
                    try { await _app.StopAsync(cts.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
                }
                // Whatever is left (nothing, normally) is stopped before the host is disposed.
                var cut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _st.Vm.Loop.Post(() => { CutOffRunning(); cut.TrySetResult(); });
                await Task.WhenAny(cut.Task, Task.Delay(1000)).ConfigureAwait(false);
                await _app.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            _st.Log.Warn($"http.serve: error while stopping the server on port {Port}: {e.Message}");
        }
        finally
        {
            _onInterrupt.Dispose();
            _st.Vm.Loop.Post(() =>
            {
                _keepAlive?.Dispose();
                _st.Servers.Remove(this);
                _st.Remove(Id);
                Signals.Track(_st);
            });
            _stopped.TrySetResult(true);
        }
    }

    static readonly byte[] NotFound = "not found\n"u8.ToArray(), MethodNotAllowed = "method not allowed\n"u8.ToArray(),
        TooLarge = "request body too large\n"u8.ToArray(), InternalError = "internal server error\n"u8.ToArray();

    async Task HandleAsync(HttpContext ctx)
    {
        var request = ctx.Request;
        var method = request.Method;
        var path = request.Path.HasValue ? request.Path.Value! : "/";
        bool head = HttpMethods.IsHead(method);
        var match = _router.Match(method, path);
        if (match == null && head) match = _router.Match("GET", path);
        if (match == null)
        {
            var allowed = _router.AllowedFor(path);
            if (allowed.Count > 0)
            {
                ctx.Response.Headers.Allow = string.Join(", ", allowed);
                await WritePlain(ctx, 405, MethodNotAllowed, head).ConfigureAwait(false);
            }
            else await WritePlain(ctx, 404, NotFound, head).ConfigureAwait(false);
            Log(ctx, ctx.Response.StatusCode);
            return;
        }

        byte[] body = [];
        if (request.ContentLength > _o.MaxBody)
        {
            await Refuse413(ctx).ConfigureAwait(false);
            return;
        }
        if (request.ContentLength > 0 || (request.ContentLength == null && request.Headers.TransferEncoding.Count > 0))
        {
            try
            {
                body = await ReadBodyAsync(request, ctx.RequestAborted).ConfigureAwait(false);
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == 413)
            {
                await Refuse413(ctx).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                ctx.Response.Headers.Connection = "close";
                await WritePlain(ctx, 408, "request body timeout\n"u8.ToArray(), head).ConfigureAwait(false);
                return;
            }
        }

        var pending = new PendingRequest(this, ctx, match.Value, body, method, path, ctx.WebSockets.IsWebSocketRequest);
        _st.Vm.Loop.Post(pending.Dispatch);
        // No WaitAsync(RequestAborted): the handler always finishes (its answer to a client that went away
        // is dropped by Kestrel), and an interrupted VM stops the server, which aborts the connection.
        var r = await pending.Result.Task.ConfigureAwait(false);
        await WriteAsync(ctx, r, head).ConfigureAwait(false);
        Log(ctx, r.Status);
    }

    void Log(HttpContext ctx, int status)
    {
        if (_o.AccessLog) _st.Log.Info($"{ctx.Request.Method} {ctx.Request.Path}{ctx.Request.QueryString} {status}");
    }

    async Task Refuse413(HttpContext ctx)
    {
        ctx.Response.Headers.Connection = "close";
        await WritePlain(ctx, 413, TooLarge, false).ConfigureAwait(false);
        Log(ctx, 413);
    }

    async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken aborted)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        cts.CancelAfter(_o.ReadTimeout);
        if (request.ContentLength is long len)
        {
            var buf = new byte[len];
            int read = 0;
            while (read < len)
            {
                int n = await request.Body.ReadAsync(buf.AsMemory(read), cts.Token).ConfigureAwait(false);
                if (n == 0) break;
                read += n;
            }
            return read == len ? buf : buf[..read];
        }
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms, cts.Token).ConfigureAwait(false);
        return ms.ToArray();
    }

    static Task WritePlain(HttpContext ctx, int status, byte[] body, bool head)
    {
        var resp = ctx.Response;
        resp.StatusCode = status;
        resp.ContentType = "text/plain; charset=utf-8";
        resp.ContentLength = body.Length;
        return head ? Task.CompletedTask : resp.Body.WriteAsync(body, 0, body.Length);
    }

    async Task WriteAsync(HttpContext ctx, ResponseData r, bool head)
    {
        var resp = ctx.Response;
        try
        {
            if (r.Kind == ResponseKind.WebSocket)
            {
                await ServerStreams.RunWebSocketAsync(ctx, r.Ws!, _st).ConfigureAwait(false);
                return;
            }
            resp.StatusCode = r.Status;
            foreach (var (name, value) in r.Headers) resp.Headers.Append(name, value);
            switch (r.Kind)
            {
                case ResponseKind.Sse:
                    await ServerStreams.PumpSseAsync(ctx, r.Sse!, _o.SseKeepAlive).ConfigureAwait(false);
                    return;
                case ResponseKind.File:
                    if (TargetOf(r.FilePath!) is not var (length, modified))
                    {
                        resp.Headers.Clear();
                        await WritePlain(ctx, 404, NotFound, head).ConfigureAwait(false);
                        return;
                    }
                    resp.ContentLength = length;
                    resp.Headers.LastModified = modified.ToString("R");
                    if (!head) await resp.SendFileAsync(r.FilePath!, 0, length, ctx.RequestAborted).ConfigureAwait(false);
                    return;
                default:
                    resp.ContentLength = r.Body.Length;
                    if (!head && r.Body.Length > 0) await resp.Body.WriteAsync(r.Body, ctx.RequestAborted).ConfigureAwait(false);
                    return;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            _st.Log.Error($"http.serve: {ctx.Request.Method} {ctx.Request.Path}: cannot send the response: {e.Message}");
            if (!resp.HasStarted)
            {
                resp.Headers.Clear();
                await WritePlain(ctx, 500, InternalError, head).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // the client went away
        }
    }

    /// <summary>
    /// Size and mtime of the regular file <paramref name="path"/> names, read from an open handle:
    /// for a symlink they are the target's (FileInfo would give the link's own size, and the
    /// response would end in a Content-Length mismatch). Null when it is missing or not a regular file.
    /// </summary>
    static (long Length, DateTime Modified)? TargetOf(string path)
    {
        try
        {
            if (!File.Exists(path)) return null; // also false for directories
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return (RandomAccess.GetLength(handle), File.GetLastWriteTimeUtc(handle));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static ResponseData Unavailable() => new() { Status = 503, Body = "server shutting down\n"u8.ToArray(), Headers = [("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")] };

    internal static ResponseData Internal() => new() { Status = 500, Body = InternalError, Headers = [("Content-Type", "text/plain; charset=utf-8")] };

    /// <summary>A host lifetime that leaves SIGINT/SIGTERM alone (the default one would stop the app on its own).</summary>
    sealed class QuietLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>SIGTERM and Ctrl-C stop every server of the runtime gracefully (in-flight requests
    /// finish; http.serve returns). A second Ctrl-C interrupts the script (see ScriptRunner).</summary>
    static class Signals
    {
        static readonly Dictionary<WebState, PosixSignalRegistration[]> Registrations = new();

        public static void Track(WebState st)
        {
            lock (Registrations)
            {
                bool has = Registrations.TryGetValue(st, out var reg);
                if (st.Servers.Count > 0 && !has)
                {
                    Registrations[st] = [Register(st, PosixSignal.SIGTERM, "SIGTERM"), Register(st, PosixSignal.SIGINT, "Ctrl-C")];
                }
                else if (st.Servers.Count == 0 && has)
                {
                    foreach (var r in reg!) r.Dispose();
                    Registrations.Remove(st);
                }
            }
        }

        static PosixSignalRegistration Register(WebState st, PosixSignal signal, string label) =>
            PosixSignalRegistration.Create(signal, ctx =>
            {
                ctx.Cancel = true;
                st.Vm.Loop.Post(() =>
                {
                    st.Log.Info($"http.serve: {label} received, shutting down gracefully");
                    foreach (var s in st.Servers.ToList()) _ = s.StopAsync();
                });
            });
    }
}

internal enum ResponseKind { Body, File, Sse, WebSocket }

/// <summary>A handler's response, converted on the loop thread, written on a Kestrel thread.</summary>
internal sealed class ResponseData
{
    public ResponseKind Kind { get; init; }
    public int Status { get; init; } = 200;
    public List<(string Name, string Value)> Headers { get; init; } = [];
    public byte[] Body { get; init; } = [];
    public string? FilePath { get; init; }
    public SseServerStream? Sse { get; init; }
    public WsConnection? Ws { get; init; }
}
