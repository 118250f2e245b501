using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Assay.Lua.Values;

/// <summary>
/// The Lua API calls on the JSON hot paths, declared with <see cref="SuppressGCTransitionAttribute"/>:
/// a 20 KB document costs thousands of these calls and the GC transition would dominate them.
/// Only functions that neither allocate through a GC step (so no finalizer, hence no managed
/// callback, can run inside them) nor block may be listed here. Pushing strings and creating
/// tables can run __gc metamethods and therefore go through <see cref="LuaState"/> instead.
/// </summary>
internal static unsafe partial class LuaFast
{
    const string Lua = "lua54";

    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_type(IntPtr L, int idx);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_gettop(IntPtr L);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_isinteger(IntPtr L, int idx);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial double lua_tonumberx(IntPtr L, int idx, int* isnum);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial long lua_tointegerx(IntPtr L, int idx, int* isnum);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_toboolean(IntPtr L, int idx);
    /// <summary>Only ever called on values of type string: converting a number would allocate.</summary>
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial byte* lua_tolstring(IntPtr L, int idx, nuint* len);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr lua_touserdata(IntPtr L, int idx);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr lua_topointer(IntPtr L, int idx);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial ulong lua_rawlen(IntPtr L, int idx);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_next(IntPtr L, int idx);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_rawgeti(IntPtr L, int idx, long n);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_rotate(IntPtr L, int idx, int n);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushinteger(IntPtr L, long n);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushnil(IntPtr L);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushnumber(IntPtr L, double n);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushboolean(IntPtr L, int b);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushlightuserdata(IntPtr L, IntPtr p);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_pushvalue(IntPtr L, int idx);
    /// <summary>Safe here: our C frames never mark to-be-closed slots, so shrinking runs no __close.</summary>
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_settop(IntPtr L, int idx);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int lua_getmetatable(IntPtr L, int idx);
    // rawset/rawseti may grow the table (plain allocation, no GC step, no finalizers).
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_rawset(IntPtr L, int idx);
    [LibraryImport(Lua), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void lua_rawseti(IntPtr L, int idx, long n);
}
