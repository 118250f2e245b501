using System.Globalization;

namespace Assay.Lua;

/// <summary>
/// A builtin written in C#. It reads its arguments from <see cref="LuaCall"/>, pushes results and
/// returns their count — or returns <see cref="LuaCall.Fail(string)"/> / <see cref="LuaCall.Await{T}"/>.
/// It never raises or yields itself: the C trampoline does that after this frame has returned
/// (docs/architecture.md, "no longjmp crosses a managed frame"). How to write one: docs/architecture.md,
/// "Writing a builtin".
/// </summary>
public delegate int LuaBuiltin(LuaCall call);

/// <summary>Thrown inside builtins to report a Lua error whose message is complete as it is
/// ("bad argument #1 to 'x' (...)", a syntax error); the dispatcher raises it unchanged.</summary>
public class LuaException(string message) : Exception(message)
{
    /// <summary>When true the message is raised as is, without the caller's file:line prefix.</summary>
    public bool Positioned { get; init; }
}

/// <summary>
/// A builtin's problem, thrown from a helper that cannot return <see cref="LuaCall.Fail"/>'s status
/// (it returns a value, or runs inside a task). The message is the problem alone: it is raised as
/// "name: problem", the builtin's name added once — by the dispatcher, or by the loop when a
/// task or a result conversion of <see cref="LuaCall.Await{T}"/> throws it.
/// </summary>
public class BuiltinError(string problem) : Exception(problem);

/// <summary>
/// The calling context of one builtin invocation: the stack, the VM, and the authoring kit —
/// <see cref="Fail"/>, the Check*/Opt* argument readers, <see cref="Options"/> and <see cref="Await{T}"/>.
/// Success paths allocate nothing beyond the values they return; messages are built only on failure.
/// </summary>
public readonly struct LuaCall(LuaState state, LuaVm vm, string name)
{
    public LuaState L { get; } = state;
    public LuaVm Vm { get; } = vm;
    /// <summary>The builtin's Lua name ("json.parse"), used in error messages.</summary>
    public string Name { get; } = name;
    public int ArgCount => L.Top;

    // ------------------------------------------------------------------ failing

    /// <summary>Fails the call with "name: problem" (the caller's file:line in front).</summary>
    public int Fail(string problem) => Error(Name + ": " + problem);

    /// <summary>
    /// Fails the call with <paramref name="message"/> exactly as given. For messages that are not
    /// this builtin's own problem (an error relayed from elsewhere); builtins use <see cref="Fail"/>.
    /// </summary>
    public int Error(string message)
    {
        L.CheckStack(1);
        L.PushString(message);
        return BuiltinStatus.Error;
    }

    /// <summary>Lua's standard message for a bad argument: "bad argument #2 to 'name' (problem)".</summary>
    public LuaException ArgError(int arg, string problem) =>
        new($"bad argument #{arg} to '{Name}' ({problem})");

    /// <summary>"bad argument #2 to 'name' (<paramref name="expected"/> expected, got nil)".</summary>
    public LuaException TypeError(int arg, string expected) => ArgError(arg, $"{expected} expected, got {TypeName(arg)}");

    public string TypeName(int arg) => L.TypeOf(arg) == LuaType.None ? "no value" : Values.LuaTables.TypeName(L.TypeOf(arg));

    // ------------------------------------------------------------------ arguments

    /// <summary>A string; a number is converted, as Lua's own functions do.</summary>
    public string CheckString(int arg) =>
        L.ToStringValue(arg) ?? throw TypeError(arg, "string");

    /// <summary>A string and nothing else (a number is refused); <paramref name="expected"/> names it in the message.</summary>
    public string CheckStrictString(int arg, string expected = "string") =>
        L.TypeOf(arg) == LuaType.String ? L.ToStringValue(arg)! : throw TypeError(arg, expected);

    /// <summary>
    /// A file system path: a string (not a number), not empty, without NUL bytes. Where it is
    /// resolved or confined is the builtin's business.
    /// </summary>
    public string CheckPath(int arg)
    {
        var path = CheckStrictString(arg, "path");
        if (path.Length == 0) throw new BuiltinError("path must not be empty");
        if (path.Contains('\0')) throw new BuiltinError("path contains a NUL byte");
        return path;
    }

    /// <summary>The bytes of a string (or of a number's text), valid until the value leaves the stack.</summary>
    public ReadOnlySpan<byte> CheckBytes(int arg)
    {
        if (L.TypeOf(arg) == LuaType.String) return L.ToBytes(arg);
        if (L.TypeOf(arg) == LuaType.Number)
            return System.Text.Encoding.UTF8.GetBytes(L.ToStringValue(arg)!);
        throw TypeError(arg, "string");
    }

    public string? OptString(int arg, string? fallback = null) =>
        L.IsNoneOrNil(arg) ? fallback : CheckString(arg);

    public double CheckNumber(int arg)
    {
        if (L.TypeOf(arg) == LuaType.Number) return L.ToNumber(arg);
        if (L.TypeOf(arg) == LuaType.String &&
            double.TryParse(L.ToStringValue(arg), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        throw TypeError(arg, "number");
    }

    public double OptNumber(int arg, double fallback) => L.IsNoneOrNil(arg) ? fallback : CheckNumber(arg);

    public long CheckInteger(int arg)
    {
        if (L.TryGetInteger(arg, out var v)) return v;
        if (L.TypeOf(arg) == LuaType.Number) throw ArgError(arg, "number has no integer representation");
        throw TypeError(arg, "number");
    }

    public long OptInteger(int arg, long fallback) => L.IsNoneOrNil(arg) ? fallback : CheckInteger(arg);

    public bool OptBoolean(int arg, bool fallback) => L.IsNoneOrNil(arg) ? fallback : L.ToBoolean(arg);

    public void CheckType(int arg, LuaType type, string typeName)
    {
        if (L.TypeOf(arg) != type) throw TypeError(arg, typeName);
    }

    /// <summary>A table; <paramref name="expected"/> names it in the message ("argv table expected, got nil").</summary>
    public void CheckTable(int arg, string expected = "table") => CheckType(arg, LuaType.Table, expected);

    /// <summary>True for a table, false for nil or nothing; anything else is a bad argument.</summary>
    public bool OptTable(int arg, string expected = "table")
    {
        if (L.IsNoneOrNil(arg)) return false;
        CheckType(arg, LuaType.Table, expected);
        return true;
    }

    /// <summary>Any value, nil included, but the argument must be there.</summary>
    public void CheckValue(int arg)
    {
        if (L.TypeOf(arg) == LuaType.None) throw ArgError(arg, "value expected");
    }

    // ------------------------------------------------------------------ options and waiting

    /// <summary>
    /// The options table at <paramref name="arg"/> (nil or nothing: no options). A key outside
    /// <paramref name="allowed"/> is an error ("fs.remove: unknown option 'recursve' (known: …)"),
    /// so a typo never passes silently. Pass the keys as a collection expression
    /// (<c>call.Options(2, ["depth", "recursive"])</c>): it lives on the stack, nothing is allocated.
    /// </summary>
    public LuaOptions Options(int arg, ReadOnlySpan<string> allowed)
    {
        if (!OptTable(arg, "options table")) return new LuaOptions(L, 0);
        arg = L.AbsIndex(arg);
        LuaOptions.CheckKeys(L, arg, allowed);
        return new LuaOptions(L, arg);
    }

    /// <summary>
    /// Waits for <paramref name="task"/> on behalf of the calling coroutine, then pushes its result
    /// with <paramref name="push"/> (on the loop thread). A failed task raises "name: problem".
    /// A task that has already completed is answered at once, without a yield.
    /// </summary>
    public int Await<T>(Task<T> task, Func<LuaState, T, int> push) => Vm.Loop.Await(this, task, push);

    /// <summary>Waits for a task without a result; <paramref name="push"/> may push values to return.</summary>
    public int Await(Task task, Func<LuaState, int>? push = null) => Vm.Loop.Await(this, task, push);
}
