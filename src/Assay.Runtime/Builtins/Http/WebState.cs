using System.Runtime.CompilerServices;

namespace Assay.Runtime.Builtins.Http;

/// <summary>
/// Per-runtime state of the web modules (http, ws): the handles Lua objects refer to by id
/// (SSE streams, WebSocket connections, client objects) and the running servers. Only touched on
/// the loop thread, except where noted.
/// </summary>
internal sealed class WebState
{
    static readonly ConditionalWeakTable<AssayRuntime, WebState> States = new();

    public static WebState Of(AssayRuntime rt) => States.GetValue(rt, r => new WebState(r));

    WebState(AssayRuntime rt) => Runtime = rt;

    public AssayRuntime Runtime { get; }
    public LuaVm Vm => Runtime.Vm;
    public Logger Log => Runtime.Logger;

    readonly Dictionary<long, object> _handles = new();
    long _nextHandle;

    public long Add(object handle)
    {
        long id = ++_nextHandle;
        _handles[id] = handle;
        return id;
    }

    public T? Get<T>(long id) where T : class => _handles.TryGetValue(id, out var h) ? h as T : null;

    public void Remove(long id) => _handles.Remove(id);

    /// <summary>
    /// Forgets and disposes the <typeparamref name="T"/> under <paramref name="id"/> (its Lua object was
    /// closed or collected); nothing when the handle is gone already or is of another kind.
    /// </summary>
    public void Free<T>(long id) where T : class, IDisposable
    {
        if (Get<T>(id) is not { } handle) return;
        Remove(id);
        handle.Dispose();
    }

    /// <summary>Last slot used in the registry's handler table (route handlers live there).</summary>
    public int HandlerSlots { get; set; }

    /// <summary>Servers started by this runtime (loop thread).</summary>
    public List<LuaHttpServer> Servers { get; } = [];

    /// <summary>Registry keys of Lua-side hooks the C# side calls.</summary>
    public const string HooksKey = "assay.http.hooks", WsHooksKey = "assay.ws.hooks",
        HandlersKey = "assay.http.handlers", ResponseMtKey = "assay.http.Response", RequestMtKey = "assay.http.Request";

    /// <summary>Pushes registry[tableKey][field].</summary>
    public static LuaType PushHook(LuaState L, string tableKey, string field)
    {
        L.CheckStack(3);
        if (L.RawGetField(LuaState.RegistryIndex, tableKey) != LuaType.Table)
        {
            L.Pop(1);
            L.PushNil();
            return LuaType.Nil;
        }
        var t = L.RawGetField(-1, field);
        L.Remove(-2);
        return t;
    }

    /// <summary>Pushes registry[key], creating an empty table there when missing.</summary>
    public static void PushRegistryTable(LuaState L, string key)
    {
        L.CheckStack(3);
        if (L.RawGetField(LuaState.RegistryIndex, key) == LuaType.Table) return;
        L.Pop(1);
        L.NewTable();
        L.PushValue(-1);
        L.RawSetField(LuaState.RegistryIndex, key);
    }
}
