using Assay.Lua;

namespace Assay.Runtime.Tests;

/// <summary>
/// The authoring kit of builtins (LuaCall.Fail, BuiltinError, Check*/Opt*, Options, Await): every
/// message names the builtin once, argument errors read as Lua's own, unknown options are refused.
/// The builtins under test are registered as the module "kit" and called from Lua.
/// </summary>
public sealed class BuiltinKitTests : IDisposable
{
    readonly LuaHarness _h = new();
    long _optionsAllocated = -1;
    int _stackDrift = -1;

    public BuiltinKitTests()
    {
        _h.Vm.RegisterModule("kit",
            ("fail", static call => call.Fail("broken")),
            ("helper", static call => { Helper(); return 0; }),
            ("str", static call => { call.L.PushString(call.CheckString(1)); return 1; }),
            ("strict", static call => { call.L.PushString(call.CheckStrictString(1, "name")); return 1; }),
            ("path", static call => { call.L.PushString(call.CheckPath(1)); return 1; }),
            ("table", static call => { call.CheckTable(1, "argv table"); return 0; }),
            ("opt_table", static call => { call.L.PushBoolean(call.OptTable(1)); return 1; }),
            ("value", static call => { call.CheckValue(1); return 0; }),
            ("int", static call => { call.L.PushInteger(call.CheckInteger(1)); return 1; }),
            ("opts", ReadOptions),
            ("no_opts", static call => { call.Options(1, []); return 0; }),
            ("await_done", static call => call.Await(Task.FromResult(41), static (L, n) => { L.PushInteger(n + 1); return 1; })),
            ("await_later", static call => call.Await(Later(7), static (L, n) => { L.PushInteger(n); return 1; })),
            ("await_failed", static call => call.Await(Task.FromException<int>(new BuiltinError("gone")), static (_, _) => 0)),
            ("await_fails_later", static call => call.Await(FailLater(), static (_, _) => 0)),
            ("await_push_fails", static call => call.Await(Later(1), static (_, _) => throw new BuiltinError("cannot convert"))));
    }

    public void Dispose() => _h.Dispose();

    static void Helper() => throw new BuiltinError("deep down");

    static async Task<int> Later(int n)
    {
        await Task.Delay(20);
        return n;
    }

    static async Task<int> FailLater()
    {
        await Task.Delay(20);
        throw new BuiltinError("gone later");
    }

    /// <summary>kit.opts(opts) → mode, depth, name, wait, strict (nil when absent); measures what reading them allocates.</summary>
    int ReadOptions(LuaCall call)
    {
        var L = call.L;
        int top = L.Top;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var o = call.Options(1, ["mode", "depth", "name", "wait", "strict"]);
        bool mode = o.Flag("mode");
        long? depth = o.Integer("depth", min: 1, max: 10);
        double? wait = o.Seconds("wait");
        bool? strict = o.Boolean("strict");
        _optionsAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var name = o.String("name");
        _stackDrift = L.Top - top;
        L.PushBoolean(mode);
        if (depth is { } d) L.PushInteger(d); else L.PushNil();
        if (name != null) L.PushString(name); else L.PushNil();
        if (wait is { } w) L.PushNumber(w); else L.PushNil();
        if (strict is { } s) L.PushBoolean(s); else L.PushNil();
        return 5;
    }

    /// <summary>Runs <paramref name="call"/> under pcall and returns its error message.</summary>
    string Error(string call)
    {
        _h.Ok($"local ok, e = pcall(function() {call} end) assert(not ok, 'expected an error') message = e");
        return _h.Eval("message")!;
    }

    [Fact]
    public void FailNamesTheBuiltinOnceAfterTheCallersPosition()
    {
        var message = Error("kit.fail()");
        Assert.Equal("test.lua:1: kit.fail: broken", message);
    }

    [Fact]
    public void BuiltinErrorFromAHelperIsNamedOnce()
    {
        Assert.Equal("test.lua:1: kit.helper: deep down", Error("kit.helper()"));
    }

    [Theory]
    [InlineData("kit.str(nil)", "bad argument #1 to 'kit.str' (string expected, got nil)")]
    [InlineData("kit.str()", "bad argument #1 to 'kit.str' (string expected, got no value)")]
    [InlineData("kit.strict(5)", "bad argument #1 to 'kit.strict' (name expected, got number)")]
    [InlineData("kit.table('x')", "bad argument #1 to 'kit.table' (argv table expected, got string)")]
    [InlineData("kit.opt_table(true)", "bad argument #1 to 'kit.opt_table' (table expected, got boolean)")]
    [InlineData("kit.value()", "bad argument #1 to 'kit.value' (value expected)")]
    [InlineData("kit.int(1.5)", "bad argument #1 to 'kit.int' (number has no integer representation)")]
    [InlineData("kit.int({})", "bad argument #1 to 'kit.int' (number expected, got table)")]
    public void ArgumentChecksReadLikeLuasOwn(string code, string expected)
    {
        Assert.Equal("test.lua:1: " + expected, Error(code));
    }

    [Fact]
    public void ArgumentChecksPassGoodValues()
    {
        _h.Ok("""
            assert(kit.str(12) == "12")              -- a number is converted, as Lua's functions do
            assert(kit.strict("x") == "x")
            assert(kit.opt_table(nil) == false and kit.opt_table({}) == true)
            kit.value(nil)                           -- nil is a value
            assert(kit.int("7") == 7)
            """);
    }

    [Theory]
    [InlineData("kit.path(nil)", "bad argument #1 to 'kit.path' (path expected, got nil)")]
    [InlineData("kit.path(5)", "bad argument #1 to 'kit.path' (path expected, got number)")]
    [InlineData("kit.path('')", "kit.path: path must not be empty")]
    [InlineData("kit.path('a\\0b')", "kit.path: path contains a NUL byte")]
    public void CheckPathRefusesWhatCannotBeAPath(string code, string expected)
    {
        Assert.Equal("test.lua:1: " + expected, Error(code));
    }

    [Fact]
    public void CheckPathReturnsThePath()
    {
        _h.Ok("assert(kit.path('dir/file.txt') == 'dir/file.txt')");
    }

    [Theory]
    [InlineData("kit.opts({mdoe = true})", "kit.opts: unknown option 'mdoe' (known: mode, depth, name, wait, strict)")]
    [InlineData("kit.opts({1})", "kit.opts: unknown option '[1]'")]
    [InlineData("kit.opts({[true] = 1})", "kit.opts: unknown option '[boolean]'")]
    [InlineData("kit.opts('x')", "bad argument #1 to 'kit.opts' (options table expected, got string)")]
    [InlineData("kit.opts({depth = 0})", "kit.opts: option 'depth' must be an integer from 1 to 10, got 0")]
    [InlineData("kit.opts({depth = 'deep'})", "kit.opts: option 'depth' must be an integer from 1 to 10, got string")]
    [InlineData("kit.opts({depth = 2.5})", "kit.opts: option 'depth' must be an integer from 1 to 10, got 2.5")]
    [InlineData("kit.opts({wait = -1})", "kit.opts: option 'wait' must be a finite number of seconds >= 0, got -1")]
    [InlineData("kit.opts({wait = math.huge})", "kit.opts: option 'wait' must be a finite number of seconds >= 0, got inf")]
    [InlineData("kit.opts({name = {}})", "kit.opts: option 'name' must be a string, got table")]
    [InlineData("kit.opts({strict = 'yes'})", "kit.opts: option 'strict' must be a boolean, got string")]
    [InlineData("kit.no_opts({x = 1})", "kit.no_opts: unknown option 'x' (it takes none)")]
    public void OptionsRefuseUnknownKeysAndBadValues(string code, string expected)
    {
        Assert.Contains(expected, Error(code));
    }

    [Fact]
    public void OptionsReadTheirValuesWithoutAllocatingOrLeavingValuesOnTheStack()
    {
        _h.Ok("""
            local mode, depth, name, wait, strict = kit.opts({mode = 1, depth = 3, name = 42, wait = 0.5, strict = false})
            assert(mode == true and depth == 3 and name == "42" and wait == 0.5 and strict == false)
            mode, depth, name, wait, strict = kit.opts({mode = 1, depth = 3, wait = 0.5, strict = false})
            """);
        Assert.Equal(0, _optionsAllocated);
        Assert.Equal(0, _stackDrift);
        _h.Ok("""
            local mode, depth, name, wait, strict = kit.opts(nil)
            assert(mode == false and depth == nil and name == nil and wait == nil and strict == nil)
            mode, depth = kit.opts({})
            assert(mode == false and depth == nil)
            """);
        Assert.Equal(0, _stackDrift);
    }

    [Fact]
    public void AwaitAnswersCompletedAndPendingTasks()
    {
        _h.Ok("""
            assert(kit.await_done() == 42)
            assert(kit.await_later() == 7)
            -- where Lua cannot yield, the wait happens synchronously
            local t = {3, 1, 2}
            table.sort(t, function(a, b) return kit.await_later() == 7 and a < b end)
            assert(t[1] == 1 and t[3] == 3)
            """);
    }

    [Theory]
    [InlineData("kit.await_failed()", "test.lua:1: kit.await_failed: gone")]
    [InlineData("kit.await_fails_later()", "test.lua:1: kit.await_fails_later: gone later")]
    [InlineData("kit.await_push_fails()", "test.lua:1: kit.await_push_fails: cannot convert")]
    public void AwaitNamesTheBuiltinOnceWhenATaskOrItsConversionFails(string code, string expected)
    {
        Assert.Equal(expected, Error(code));
    }
}
