using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Assay.Lua.Interop;
using Assay.Lua.Loop;
using static Assay.Lua.Interop.LuaNative;

namespace Assay.Lua;

public sealed class LuaVmOptions
{
    /// <summary>Memory cap of the Lua heap; exceeding it raises "not enough memory" in Lua.</summary>
    public long MemoryLimitBytes { get; set; } = 1L << 30;
}

/// <summary>
/// One Lua state and its event loop: lifetime, builtin registration, running code. All members
/// must be used on the loop thread except <see cref="Interrupt"/> and <see cref="Loop"/>.Post.
/// </summary>
public sealed unsafe class LuaVm : IDisposable
{
    /// <summary>The value a waiting builtin yields before its op id (see bootstrap.lua).</summary>
    public static readonly IntPtr Mark;

    static LuaVm()
    {
        NativeLibraries.EnsureResolver();
        Mark = assay_mark();
    }

    readonly List<(LuaBuiltin Fn, string Name)> _builtins = [];
    CancellationTokenSource _cancellation = new();
    GCHandle _self;
    volatile string? _interruptReason;
    bool _disposed;
    readonly IntPtr _native;        // the C side of the state (assay_vm): outlives MainState until Dispose ends
    readonly Lock _rearmLock = new();
    Timer? _rearm;                  // re-arms the interrupt hook while an interrupt is pending

    public LuaVm(LuaVmOptions? options = null)
    {
        Options = options ?? new LuaVmOptions();
        MainState = assay_newstate((nuint)Math.Max(0, Options.MemoryLimitBytes));
        if (MainState == IntPtr.Zero) throw new OutOfMemoryException("could not create a Lua state");
        _self = GCHandle.Alloc(this);
        assay_configure(MainState, GCHandle.ToIntPtr(_self), &Dispatch, &WaitSynchronously);
        luaL_openlibs(MainState);
        assay_install_patterns(MainState);   // string.find/match/gmatch/gsub that an interrupt can stop
        _native = assay_vm_of(MainState);
        Loop = new EventLoop(this);
        LoadBootstrap();
    }

    public LuaVmOptions Options { get; }
    public IntPtr MainState { get; }
    public LuaState Main => new(MainState);
    public EventLoop Loop { get; }
    internal int TaskMainRef { get; private set; }

    /// <summary>Cancelled when the VM is interrupted; waiting builtins pass it to their tasks.</summary>
    public CancellationToken Cancellation => _cancellation.Token;
    public bool IsInterrupted => _interruptReason != null;
    public string? InterruptReason => _interruptReason;
    public long MemoryUsed => (long)assay_memory_used(MainState);

    // ---------------------------------------------------------------- builtins

    /// <summary>Pushes a Lua function backed by <paramref name="fn"/> onto <paramref name="L"/>.</summary>
    public void PushFunction(LuaState L, string name, LuaBuiltin fn, bool raw = false)
    {
        _builtins.Add((fn, name));
        assay_push_builtin(L.Handle, _builtins.Count - 1, raw ? 1 : 0);
    }

    /// <summary>Sets <paramref name="field"/> of the table at <paramref name="tableIdx"/> to a builtin.</summary>
    public void SetFunction(LuaState L, int tableIdx, string qualifiedName, string field, LuaBuiltin fn)
    {
        tableIdx = L.AbsIndex(tableIdx);
        PushFunction(L, qualifiedName, fn);
        L.RawSetField(tableIdx, field);
    }

    /// <summary>Pushes the global table <paramref name="name"/>, creating it when missing.</summary>
    public void PushGlobalTable(string name)
    {
        var L = Main;
        L.PushGlobalTable();
        if (L.RawGetField(-1, name) != LuaType.Table)
        {
            L.Pop(1);
            L.NewTable();
            L.PushValue(-1);
            L.RawSetField(-3, name);
        }
        L.Remove(-2);
    }

    /// <summary>Registers global functions <c>module.name</c>, e.g. ("json", [("encode", fn)]).</summary>
    public void RegisterModule(string module, params (string Name, LuaBuiltin Fn)[] functions)
    {
        PushGlobalTable(module);
        foreach (var (name, fn) in functions) SetFunction(Main, -1, $"{module}.{name}", name, fn);
        Main.Pop(1);
    }

    public void RegisterGlobal(string name, LuaBuiltin fn)
    {
        var L = Main;
        L.PushGlobalTable();
        SetFunction(L, -1, name, name, fn);
        L.Pop(1);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static int Dispatch(IntPtr L, IntPtr vmHandle, int index)
    {
        var vm = (LuaVm)GCHandle.FromIntPtr(vmHandle).Target!;
        var (fn, name) = vm._builtins[index];
        var state = new LuaState(L);
        try
        {
            return fn(new LuaCall(state, vm, name));
        }
        catch (LuaException e)
        {
            state.CheckStack(2);
            state.PushString(e.Message);
            return e.Positioned ? BuiltinStatus.ErrorAsIs : BuiltinStatus.Error;
        }
        catch (Exception e)
        {
            // A .NET exception never crosses into Lua: it becomes a Lua error naming the builtin.
            state.CheckStack(2);
            state.PushString($"{name}: {e.Message}");
            return BuiltinStatus.Error;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    static int WaitSynchronously(IntPtr L, IntPtr vmHandle)
    {
        var vm = (LuaVm)GCHandle.FromIntPtr(vmHandle).Target!;
        var state = new LuaState(L);
        try
        {
            return vm.Loop.WaitSynchronously(state);
        }
        catch (Exception e)
        {
            state.CheckStack(2);
            state.PushString(e.Message);
            return BuiltinStatus.Error;
        }
    }

    // ---------------------------------------------------------------- running code

    /// <summary>
    /// Compiles <paramref name="source"/>; pushes the function, or throws with the syntax error.
    /// Source text only: a binary chunk is refused ("attempt to load a binary chunk").
    /// </summary>
    public void Load(LuaState L, ReadOnlySpan<byte> source, string chunkName) => Load(L, source, chunkName, "t\0"u8);

    void Load(LuaState L, ReadOnlySpan<byte> chunk, string chunkName, ReadOnlySpan<byte> mode)
    {
        var name = Encoding.UTF8.GetBytes(chunkName + "\0");
        int status;
        fixed (byte* src = chunk)
        fixed (byte* n = name)
        fixed (byte* m = mode)
            status = luaL_loadbufferx(L.Handle, src == null ? m : src, (nuint)chunk.Length, n, m);
        if (status != LUA_OK)
        {
            var message = L.ToStringValue(-1) ?? "syntax error";
            L.Pop(1);
            throw new LuaException(message) { Positioned = true };
        }
    }

    /// <summary>
    /// Runs setup code synchronously on the main state (tests, the REPL's runner). Arguments are
    /// pushed by <paramref name="pushArgs"/>; <paramref name="nresults"/> results stay on the stack.
    /// </summary>
    public void Execute(ReadOnlySpan<byte> source, string chunkName, Func<LuaState, int>? pushArgs = null, int nresults = 0)
    {
        Load(Main, source, chunkName);
        Call(pushArgs, nresults);
    }

    /// <summary>
    /// As <see cref="Execute(ReadOnlySpan{byte}, string, Func{LuaState, int}?, int)"/> for Lua bytecode
    /// that the build compiled into the binary (the bootstrap and the builtin preludes, by
    /// native/assay_luac.c, see build/LuaBytecode.targets): loading it skips the parser at every
    /// start. Never for anything a user supplies — Lua does not verify bytecode — and binary only.
    /// </summary>
    public void ExecutePrecompiled(ReadOnlySpan<byte> bytecode, string chunkName, Func<LuaState, int>? pushArgs = null, int nresults = 0)
    {
        Load(Main, bytecode, chunkName, "b\0"u8);
        Call(pushArgs, nresults);
    }

    /// <summary>Calls the loaded function on top of the main stack with the pushed arguments.</summary>
    void Call(Func<LuaState, int>? pushArgs, int nresults)
    {
        var L = Main;
        int nargs = pushArgs?.Invoke(L) ?? 0;
        if (assay_pcall(L.Handle, nargs, nresults, 0) != LUA_OK)
        {
            var message = L.ToStringValue(-1) ?? "error in setup code";
            L.Pop(1);
            throw new LuaException(message) { Positioned = true };
        }
    }

    public void Execute(string source, string chunkName, Func<LuaState, int>? pushArgs = null, int nresults = 0) =>
        Execute(Encoding.UTF8.GetBytes(source), chunkName, pushArgs, nresults);

    /// <summary>
    /// Runs a chunk as the main task on this thread's event loop until the script and everything
    /// it started have finished. Syntax errors throw <see cref="LuaException"/>.
    /// </summary>
    /// <param name="onFinished">Sees the chunk's results on the task's stack (index 1: ok flag, 2..: values).</param>
    public LuaTask RunMain(ReadOnlySpan<byte> source, string chunkName, IReadOnlyList<string>? args = null,
        CancellationToken stop = default, Action<LuaTask, LuaState>? onFinished = null)
    {
        var L = Main;
        Load(L, source, chunkName);
        foreach (var a in args ?? []) L.PushString(a);
        var main = Loop.Spawn(L, args?.Count ?? 0, "main");
        main.OnFinished = onFinished;
        Loop.Run(main, stop);
        FlushOutput();
        return main;
    }

    /// <summary>Stops the running script from any thread: Lua raises at the next instruction check.</summary>
    public void Interrupt(string reason)
    {
        if (_disposed) return;
        // taken before the reason is set: a ClearInterrupt that sees the reason replaces this source,
        // and a cancel landing after it must not hit the fresh one
        var cancellation = _cancellation;
        _interruptReason ??= reason;
        assay_interrupt(MainState, reason);
        // Lua switches hooks off afresh for every __gc finalizer it runs, so arming once is not
        // enough for a script whose finalizers loop: arm the running thread again until it stops.
        lock (_rearmLock)
            if (!_disposed) _rearm ??= new Timer(static vm => assay_rearm(((LuaVm)vm!)._native), this, 100, 100);
        try { cancellation.Cancel(); } catch (ObjectDisposedException) { }
        Loop.Wake();
    }

    /// <summary>
    /// Lets the VM run again after an interrupt (the REPL: Ctrl-C stops one line, not the session).
    /// Operations started before keep the cancelled token; new ones get a fresh one.
    /// </summary>
    public void ClearInterrupt()
    {
        assay_clear_interrupt(MainState);
        _interruptReason = null;
        // always a new source: the interrupting thread may not have cancelled the old one yet
        _cancellation = new CancellationTokenSource();
        lock (_rearmLock)
        {
            _rearm?.Dispose();
            _rearm = null;
        }
    }

    public void FlushOutput() => assay_flush();

    /// <summary>Sets (or with null removes) a variable in both the .NET and the C environment.</summary>
    public static void SetEnvironmentVariable(string name, string? value)
    {
        Environment.SetEnvironmentVariable(name, value);
        assay_setenv(name, value);
    }

    void LoadBootstrap()
    {
        var L = Main;
        ExecutePrecompiled(EmbeddedFiles.Get("assay/bootstrap.luac"), "=[assay loop]", L =>
        {
            L.NewTable();
            L.PushLightUserData(Mark);
            L.RawSetField(-2, "mark");
            // wait(id): re-issues a pending op upward from inside a user coroutine (raw: never raises)
            PushFunction(L, "wait", static call => { call.L.PushValue(1); return BuiltinStatus.Pending; }, raw: true);
            L.RawSetField(-2, "wait");
            // the standard resume, tracked in C so an interrupt reaches code inside user coroutines
            assay_push_tracked_resume(L.Handle);
            L.RawSetField(-2, "resume");
            return 1;
        }, nresults: 1);
        L.RawGetField(-1, "task_main");
        TaskMainRef = luaL_ref(L.Handle, LUA_REGISTRYINDEX);
        L.Pop(1);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        assay_close(MainState);   // finalizers run here, still interruptible
        lock (_rearmLock)
        {
            if (_rearm != null)
            {
                using var stopped = new ManualResetEvent(false);
                if (_rearm.Dispose(stopped)) stopped.WaitOne();   // no re-arm may touch the freed assay_vm
            }
        }
        assay_free(_native);
        _self.Free();
        _cancellation.Dispose();
    }
}
