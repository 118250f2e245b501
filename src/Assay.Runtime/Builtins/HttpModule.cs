using Assay.Runtime.Builtins.Http;

namespace Assay.Runtime.Builtins;

/// <summary>
/// The <c>http</c> module: client (<c>http.get/post/put/patch/delete/request</c>, <c>http.client</c>,
/// SSE streams) and server (<c>http.serve</c>, <c>http.static</c>, <c>http.stop</c>). The natives
/// live in Http/ (client: <see cref="HttpClientNatives"/>, server: <see cref="LuaHttpServer"/>);
/// the public Lua API is prelude/http.lua. Reference page: docs/modules/http.md.
/// </summary>
public static class HttpModule
{
    public static void Register(AssayRuntime rt)
    {
        var st = WebState.Of(rt);
        var vm = rt.Vm;
        var L = vm.Main;
        // Metatables the C# side sets on responses and requests; the prelude fills in their methods.
        WebState.PushRegistryTable(L, WebState.ResponseMtKey);
        L.Pop(1);
        WebState.PushRegistryTable(L, WebState.RequestMtKey);
        L.Pop(1);
        WebState.PushRegistryTable(L, WebState.HandlersKey);
        L.Pop(1);
        rt.RunPrelude("http", L =>
        {
            L.NewTable();
            foreach (var verb in new[] { "get", "post", "put", "patch", "delete", "request" })
                vm.SetFunction(L, -1, "http." + verb, verb, call => HttpClientNatives.Request(call, st));
            vm.SetFunction(L, -1, "http.sse", "sse_next", call => HttpClientNatives.SseNext(call, st));
            vm.SetFunction(L, -1, "http.sse", "sse_close", call => HttpClientNatives.SseClose(call, st));
            vm.SetFunction(L, -1, "http.client", "client_new", call => HttpClientNatives.ClientNew(call, st));
            vm.SetFunction(L, -1, "http.client", "client_free", call => HttpClientNatives.ClientFree(call, st));
            vm.SetFunction(L, -1, "http.serve", "serve_start", call => LuaHttpServer.Start(call, st));
            vm.SetFunction(L, -1, "http.serve", "serve_wait", call => LuaHttpServer.Wait(call, st));
            vm.SetFunction(L, -1, "http.stop", "stop", call => LuaHttpServer.StopNative(call, st));
            vm.SetFunction(L, -1, "send", "sse_send", call => ServerStreams.SseSend(call, st));
            vm.SetFunction(L, -1, "http.static", "static_root", call => StaticFiles.Root(call));
            vm.SetFunction(L, -1, "http.static", "static_serve", call => StaticFiles.Serve(call));
            L.RawGetField(LuaState.RegistryIndex, WebState.ResponseMtKey);
            L.RawSetField(-2, "response_mt");
            L.RawGetField(LuaState.RegistryIndex, WebState.RequestMtKey);
            L.RawSetField(-2, "request_mt");
            return 1;
        }, nresults: 1);
        // The prelude returns its hooks (run_sse, …) for the server to call.
        L.RawSetField(LuaState.RegistryIndex, WebState.HooksKey);
        // WebSocket routes of http.serve run through the ws prelude's hooks.
        rt.Install("ws");
    }
}
