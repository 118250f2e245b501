using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Assay.Lua.Interop;

/// <summary>
/// The Lua C API calls the embedding uses, declared once. Only functions that cannot raise in the
/// way we call them are used from C# (raw table access, pushes, reads of values we type-checked);
/// anything that may raise runs inside <c>assay_pcall</c>/<c>assay_resume</c> in C.
/// "lua54" names Lua: the JIT build maps it to Debian's liblua5.4 (see <see cref="NativeLibraries"/>),
/// the NativeAOT build links liblua5.4.a statically.
/// </summary>
internal static unsafe partial class LuaNative
{
    const string Lua = "lua54";
    const string Helper = "assay_native";

    public const int LUA_OK = 0, LUA_YIELD = 1, LUA_ERRRUN = 2, LUA_ERRSYNTAX = 3, LUA_ERRMEM = 4, LUA_ERRERR = 5;
    public const int LUA_REGISTRYINDEX = -1000000 - 1000;
    public const int LUA_RIDX_GLOBALS = 2;
    public const int LUA_MULTRET = -1;

    // ---- the C helper (src/Assay.Lua/native/assay_native.c) ----
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr assay_newstate(nuint limit);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_close(IntPtr L);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr assay_vm_of(IntPtr L);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_free(IntPtr vm);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_rearm(IntPtr vm);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_install_patterns(IntPtr L);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_configure(IntPtr L, IntPtr managed,
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, int> dispatch,
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> waitSync);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_set_limit(IntPtr L, nuint limit);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial nuint assay_memory_used(IntPtr L);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr assay_mark();
    [LibraryImport(Helper, StringMarshalling = StringMarshalling.Utf8)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_interrupt(IntPtr L, string reason);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_clear_interrupt(IntPtr L);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int assay_resume(IntPtr co, IntPtr from, int nargs, out int nresults);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int assay_pcall(IntPtr L, int nargs, int nresults, int msgh);
    /// <summary>lua_resetthread under the memory cap, with the thread tracked for interrupts: __close handlers run.</summary>
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int assay_closethread(IntPtr co);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_push_builtin(IntPtr L, int builtin, int raw);
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_push_tracked_resume(IntPtr L);

    /// <summary>
    /// json.parse's decoder (native/assay_json.c): pushes the value of valid-UTF-8 JSON text (1), or
    /// leaves the stack as it was and returns -1 with a message and its byte offset. Never raises.
    /// Not SuppressGCTransition: a GC step inside may run __gc finalizers, which may call builtins.
    /// </summary>
    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int assay_json_decode(IntPtr L, byte* text, nuint len, int nullIndex, int objectMt,
        byte* errbuf, nuint errlen, nuint* erroff);

    [LibraryImport(Helper)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void assay_flush();
    /// <summary>The C side's value of a status code or Lua constant, by name (false for an unknown name).</summary>
    [LibraryImport(Helper, StringMarshalling = StringMarshalling.Utf8)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    [return: MarshalAs(UnmanagedType.Bool)]
    public static partial bool assay_constant(string name, out int value);

    [LibraryImport(Helper, StringMarshalling = StringMarshalling.Utf8)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int assay_setenv(string name, string? value);
    /// <summary>stat(2) type of a path, symlinks followed: 0 missing, 1 regular file, 2 directory, 3 device/FIFO/socket.</summary>
    [LibraryImport(Helper, StringMarshalling = StringMarshalling.Utf8)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int assay_file_kind(string path);

    // ---- Lua ----
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void luaL_openlibs(IntPtr L);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int luaL_loadbufferx(IntPtr L, byte* buff, nuint size, byte* name, byte* mode);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int luaL_ref(IntPtr L, int t);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void luaL_unref(IntPtr L, int t, int r);

    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_gettop(IntPtr L);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_settop(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_absindex(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushvalue(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_rotate(IntPtr L, int idx, int n);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_copy(IntPtr L, int from, int to);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_checkstack(IntPtr L, int n);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_xmove(IntPtr from, IntPtr to, int n);

    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_type(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_isinteger(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial double lua_tonumberx(IntPtr L, int idx, int* isnum);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial long lua_tointegerx(IntPtr L, int idx, int* isnum);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_toboolean(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial byte* lua_tolstring(IntPtr L, int idx, nuint* len);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial ulong lua_rawlen(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr lua_touserdata(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr lua_tothread(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr lua_topointer(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_rawequal(IntPtr L, int a, int b);

    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushnil(IntPtr L);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushnumber(IntPtr L, double n);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushinteger(IntPtr L, long n);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial byte* lua_pushlstring(IntPtr L, byte* s, nuint len);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushboolean(IntPtr L, int b);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushlightuserdata(IntPtr L, IntPtr p);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_pushthread(IntPtr L);

    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_rawget(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_rawgeti(IntPtr L, int idx, long n);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_createtable(IntPtr L, int narr, int nrec);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_getmetatable(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_rawset(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_rawseti(IntPtr L, int idx, long n);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_setmetatable(IntPtr L, int idx);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_next(IntPtr L, int idx);

    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr lua_newthread(IntPtr L);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_status(IntPtr L);
    [LibraryImport(Lua)] [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_gc(IntPtr L, int what, int arg);

    // ---- small conveniences (no raising) ----
    public static void lua_pop(IntPtr L, int n) => lua_settop(L, -n - 1);
    public static void lua_insert(IntPtr L, int idx) => lua_rotate(L, idx, 1);
    public static void lua_remove(IntPtr L, int idx) { lua_rotate(L, idx, -1); lua_pop(L, 1); }
    public static int lua_upvalueindex(int i) => LUA_REGISTRYINDEX - i;
}
