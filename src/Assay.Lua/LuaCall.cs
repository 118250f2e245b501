using System.Globalization;

namespace Assay.Lua;

/// <summary>
/// A builtin written in C#. It reads its arguments from <see cref="LuaCall"/>, pushes results and
/// returns their count — or returns <see cref="LuaCall.Error(string)"/> / a pending operation from
/// <see cref="Loop.EventLoop"/>. It never raises or yields itself: the C trampoline does that
/// after this frame has returned (docs/architecture.md, "no longjmp crosses a managed frame").
/// </summary>
public delegate int LuaBuiltin(LuaCall call);

/// <summary>Thrown inside builtins to report a Lua error; the dispatcher turns it into one.</summary>
public class LuaException(string message) : Exception(message)
{
    /// <summary>When true the message is raised as is, without the caller's file:line prefix.</summary>
    public bool Positioned { get; init; }
}

/// <summary>The calling context of one builtin invocation: the stack, the VM, argument checks.</summary>
public readonly struct LuaCall(LuaState state, LuaVm vm, string name)
{
    internal const int StatusError = -1;         // error value on top; C prepends file:line
    internal const int StatusPending = -2;       // op id on top; C yields or waits
    internal const int StatusErrorAsIs = -3;     // error value on top; raised unchanged

    public LuaState L { get; } = state;
    public LuaVm Vm { get; } = vm;
    /// <summary>The builtin's Lua name ("json.parse"), used in error messages.</summary>
    public string Name { get; } = name;
    public int ArgCount => L.Top;

    /// <summary>Pushes a message and returns the status that makes the trampoline raise it.</summary>
    public int Error(string message)
    {
        L.PushString(message);
        return StatusError;
    }

    public LuaException ArgError(int arg, string problem) =>
        new($"bad argument #{arg} to '{Name}' ({problem})");

    string Expected(int arg, string type) => $"{type} expected, got {TypeName(arg)}";

    public string TypeName(int arg) => L.TypeOf(arg) == LuaType.None ? "no value" : Values.LuaTables.TypeName(L.TypeOf(arg));

    public string CheckString(int arg) =>
        L.ToStringValue(arg) ?? throw ArgError(arg, Expected(arg, "string"));

    public ReadOnlySpan<byte> CheckBytes(int arg)
    {
        if (L.TypeOf(arg) == LuaType.String) return L.ToBytes(arg);
        if (L.TypeOf(arg) == LuaType.Number)
            return System.Text.Encoding.UTF8.GetBytes(L.ToStringValue(arg)!);
        throw ArgError(arg, Expected(arg, "string"));
    }

    public string? OptString(int arg, string? fallback = null) =>
        L.IsNoneOrNil(arg) ? fallback : CheckString(arg);

    public double CheckNumber(int arg)
    {
        if (L.TypeOf(arg) == LuaType.Number) return L.ToNumber(arg);
        if (L.TypeOf(arg) == LuaType.String &&
            double.TryParse(L.ToStringValue(arg), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        throw ArgError(arg, Expected(arg, "number"));
    }

    public double OptNumber(int arg, double fallback) => L.IsNoneOrNil(arg) ? fallback : CheckNumber(arg);

    public long CheckInteger(int arg)
    {
        if (L.TryGetInteger(arg, out var v)) return v;
        if (L.TypeOf(arg) == LuaType.Number) throw ArgError(arg, "number has no integer representation");
        throw ArgError(arg, Expected(arg, "number"));
    }

    public long OptInteger(int arg, long fallback) => L.IsNoneOrNil(arg) ? fallback : CheckInteger(arg);

    public void CheckType(int arg, LuaType type, string typeName)
    {
        if (L.TypeOf(arg) != type) throw ArgError(arg, Expected(arg, typeName));
    }

    public bool OptBoolean(int arg, bool fallback) => L.IsNoneOrNil(arg) ? fallback : L.ToBoolean(arg);
}
