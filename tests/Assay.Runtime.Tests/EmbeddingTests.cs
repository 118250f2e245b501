using Assay.Lua;
using Assay.Lua.Interop;

namespace Assay.Runtime.Tests;

/// <summary>
/// The no-longjmp-across-managed-frames rule under stress: builtins failing by the hundred
/// thousand, inside pcall, coroutines and metamethods, without a crash or a leak.
/// </summary>
[Collection(nameof(MemoryMeasurements))]
public class EmbeddingTests
{
    [Fact]
    public void HundredThousandBuiltinErrorsAreCaughtByPcall()
    {
        using var h = new LuaHarness();
        var task = h.Run("""
            caught = 0
            for i = 1, 100000 do
              local ok, err = pcall(sleep, -1)
              if not ok and err:find("sleep: duration must be", 1, true) then caught = caught + 1 end
            end
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("100000", h.Eval("caught"));
    }

    [Fact]
    public void BuiltinErrorsInsideNestedPcallCoroutinesAndMetamethodsStayLuaErrors()
    {
        using var h = new LuaHarness();
        var task = h.Run("""
            local results = {}
            -- nested pcall
            local ok, err = pcall(function()
              local ok2, err2 = pcall(function() env.set("") end)
              results[#results+1] = (not ok2) and err2:find("invalid variable name") ~= nil
              sleep(-5)
            end)
            results[#results+1] = (not ok) and err:find("sleep:") ~= nil
            -- inside a coroutine, resumed by the user, three levels deep
            local co = coroutine.create(function()
              local inner = coroutine.wrap(function() sleep(0/0) end)
              local ok3, err3 = pcall(inner)
              coroutine.yield(ok3, err3)
              sleep(-1)
            end)
            local r1, ok3, err3 = coroutine.resume(co)
            results[#results+1] = r1 and not ok3 and err3:find("sleep:") ~= nil
            local r2, err4 = coroutine.resume(co)
            results[#results+1] = (not r2) and err4:find("sleep:") ~= nil
            -- inside metamethods (non-yieldable contexts)
            local mt = setmetatable({}, {
              __index = function(_, k) sleep(-1) end,
              __add = function() env.set("a=b", "x") end,
              __tostring = function() sleep(-1) end,
            })
            results[#results+1] = not pcall(function() return mt.x end)
            results[#results+1] = not pcall(function() return mt + 1 end)
            results[#results+1] = not pcall(tostring, mt)
            -- in a sort comparator and a gsub callback
            results[#results+1] = not pcall(table.sort, {3, 2, 1}, function(a, b) sleep(-1) end)
            results[#results+1] = not pcall(string.gsub, "abc", "%w", function() sleep(-1) end)
            all_ok = true
            for i, v in ipairs(results) do if v ~= true then all_ok = "check " .. i .. " failed" end end
            count = #results
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("true", h.Eval("all_ok"));
        Assert.Equal("9", h.Eval("count"));
    }

    [Fact]
    public void ErrorsDoNotLeakMemory()
    {
        using var h = new LuaHarness();
        const string loop = """
            for i = 1, 20000 do
              pcall(sleep, -1)
              local co = coroutine.wrap(function() sleep(-1) end)
              pcall(co)
            end
            collectgarbage("collect")
            """;
        h.Run(loop);
        long luaAfterFirst = h.Vm.MemoryUsed;
        GC.Collect();
        long managedAfterFirst = GC.GetTotalMemory(true);
        for (int i = 0; i < 3; i++) h.Run(loop);
        GC.Collect();
        Assert.InRange(h.Vm.MemoryUsed, 0, luaAfterFirst + 256 * 1024);
        // The managed heap is the whole test process's: what another suite's leftover threads hold for a moment (CI runs
        // the suites side by side) is gone a little later, a leak of ours is not. Alone this grows by a few hundred bytes.
        Assert.InRange(SettledManagedMemory(managedAfterFirst + 4 * 1024 * 1024), 0, managedAfterFirst + 4 * 1024 * 1024);
    }

    /// <summary>The managed heap after a full collection, measured again (up to 2 s) while it is above <paramref name="bound"/>.</summary>
    static long SettledManagedMemory(long bound)
    {
        var least = long.MaxValue;
        for (var attempt = 0; attempt < 10 && least > bound; attempt++)
        {
            if (attempt > 0) Thread.Sleep(200);
            least = Math.Min(least, GC.GetTotalMemory(true));
        }
        return least;
    }

    [Fact]
    public void MemoryCapRaisesALuaErrorThatPcallCanCatch()
    {
        using var h = new LuaHarness(memoryLimit: 32L * 1024 * 1024);
        var task = h.Run("""
            local ok, err = pcall(function()
              local t = {}
              for i = 1, 1e8 do t[i] = ("x"):rep(64) .. i end
            end)
            outcome = tostring(ok) .. " " .. tostring(err)
            collectgarbage("collect")
            survived = #("still alive")
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("false not enough memory", h.Eval("outcome"));
        Assert.Equal("11", h.Eval("survived"));
        Assert.InRange(h.Vm.MemoryUsed, 0, 32L * 1024 * 1024);
    }

    [Fact]
    public void MemoryCapHoldsForSmallObjectsRecycledThroughThePool()
    {
        // Small blocks (closures, upvalues, small tables, short strings) are recycled through the
        // allocator's per-state pool and counted against the cap when taken from malloc, not on
        // every allocation (assay_native.c). The cap must still stop a script that keeps them.
        using var h = new LuaHarness(memoryLimit: 16L * 1024 * 1024);
        var task = h.Run("""
            local ok, err = pcall(function()
              local keep = {}
              for i = 1, 1e8 do keep[i] = { x = i, f = function() return i end } end
            end)
            outcome = tostring(ok) .. " " .. tostring(err)
            collectgarbage("collect")
            -- churn far more than the cap in short-lived small objects: the pool recycles them
            local total = 0
            for i = 1, 400000 do
              local t = { i, name = "n" .. (i % 1000) }
              local f = function() return t[1] end
              total = total + f()
            end
            churned = total
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("false not enough memory", h.Eval("outcome"));
        Assert.Equal("80000200000", h.Eval("churned"));
        Assert.InRange(h.Vm.MemoryUsed, 0, 16L * 1024 * 1024);
    }

    [Fact]
    public void PooledFreeBlocksGiveWayToALargeAllocationUnderTheCap()
    {
        // Freed small blocks stay in the pool (up to 256 KiB per size class, 4 MiB in all) and count
        // as used memory until the cap is reached; then they go back to malloc, so a large
        // allocation that fits beside the live objects succeeds and MemoryUsed counts live objects only.
        using var h = new LuaHarness(memoryLimit: 16L * 1024 * 1024);
        var task = h.Run("""
            local strings = {}
            for i = 1, 40000 do strings[i] = ("%d"):format(i) .. ("y"):rep(i % 230) end
            strings = nil
            collectgarbage("collect")
            collectgarbage("collect")
            live_kib = collectgarbage("count")
            -- string.rep builds the result in a buffer and copies it: about 2 x 6.5 MiB at once
            big = #("z"):rep(6 * 1024 * 1024 + 512 * 1024)
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal((6 * 1024 * 1024 + 512 * 1024).ToString(), h.Eval("big"));
        Assert.InRange(h.Vm.MemoryUsed, 0, 16L * 1024 * 1024);
    }

    [Fact]
    public void InterruptStopsTightLoopsEvenInsidePcallAndNonYieldableContexts()
    {
        // The hook is armed only on request, on whichever Lua thread is running: the main task, a
        // spawned task, or a user coroutine nested in others (see assay_native.c).
        foreach (var body in new[]
                 {
                     "while true do end",
                     "coroutine.wrap(function() while true do end end)()",
                     "local c = coroutine.create(function() coroutine.wrap(function() pcall(function() while true do end end) end)() end) coroutine.resume(c) while true do end",
                     "local c = coroutine.wrap(function() coroutine.yield() while true do end end) c() sleep(0.01) c()",
                     "async.spawn(function() while true do end end) sleep(10)",
                     "while true do pcall(function() while true do end end) end",
                     "table.sort({3, 2, 1, 4}, function(a, b) while true do end end)",
                     "require_like = string.gsub('aaa', 'a', function() while true do end end)",
                 })
        {
            using var h = new LuaHarness();
            using var timer = new Timer(_ => h.Vm.Interrupt("deadline exceeded"), null, 200, Timeout.Infinite);
            var started = DateTime.UtcNow;
            var task = h.Run(body);
            Assert.True(h.Vm.IsInterrupted, body);
            Assert.False(task.Succeeded && task.IsFinished, body);
            Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.1, 5);
        }
    }

    /// <summary>A task whose (cancelled) body waits, with a to-be-closed variable whose __close runs <paramref name="close"/>.</summary>
    static string CancelWithCloseHandler(string close) => $$"""
        local t = async.spawn(function()
          local guard <close> = setmetatable({}, {__close = function() {{close}} end})
          sleep(10)
        end)
        sleep(0.01)
        t:cancel()
        cancelled = true
        """;

    [Fact]
    public void CloseHandlersOfACancelledTaskRunUnderTheMemoryCap()
    {
        using var h = new LuaHarness(memoryLimit: 32L * 1024 * 1024);
        var task = h.Run(CancelWithCloseHandler("closed = true; big = pcall(string.rep, 'x', 64 * 1024 * 1024)"));
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("true", h.Eval("closed"));
        Assert.Equal("false", h.Eval("big"));   // 64 MiB did not fit under the 32 MiB cap
        Assert.InRange(h.Vm.MemoryUsed, 0, 32L * 1024 * 1024);
    }

    [Fact]
    public async Task AnInterruptReachesTheCloseHandlersOfACancelledTask()
    {
        var h = new LuaHarness();
        var entered = Path.Combine(Path.GetTempPath(), $"assay-close-{Guid.NewGuid():N}");
        var run = Task.Run(() => h.Run(CancelWithCloseHandler($"io.open('{entered}', 'w'):close() while true do end")));
        try
        {
            // interrupt once the handler loops (not before: a pending interrupt would stop the script at its start)
            for (int i = 0; i < 1000 && !File.Exists(entered) && !run.IsCompleted; i++) await Task.Delay(10);
            Assert.True(File.Exists(entered), "the __close handler did not run");
            h.Vm.Interrupt("deadline exceeded");
            // Before __close ran as the tracked thread, the interrupt armed the canceller and the loop never
            // ended (the state is left undisposed then: its thread still spins in it).
            var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.True(first == run, "the looping __close handler was not interrupted");
        }
        finally { File.Delete(entered); }
        Assert.True(h.Vm.IsInterrupted);
        Assert.False((await run).Succeeded);
        h.Dispose();
    }

    [Theory]
    [InlineData("ASSAY_ERROR", BuiltinStatus.Error)]
    [InlineData("ASSAY_PENDING", BuiltinStatus.Pending)]
    [InlineData("ASSAY_ERROR_AS_IS", BuiltinStatus.ErrorAsIs)]
    [InlineData("LUA_OK", LuaNative.LUA_OK)]
    [InlineData("LUA_YIELD", LuaNative.LUA_YIELD)]
    [InlineData("LUA_ERRRUN", LuaNative.LUA_ERRRUN)]
    [InlineData("LUA_ERRSYNTAX", LuaNative.LUA_ERRSYNTAX)]
    [InlineData("LUA_ERRMEM", LuaNative.LUA_ERRMEM)]
    [InlineData("LUA_ERRERR", LuaNative.LUA_ERRERR)]
    [InlineData("LUA_REGISTRYINDEX", LuaNative.LUA_REGISTRYINDEX)]
    [InlineData("LUA_RIDX_GLOBALS", LuaNative.LUA_RIDX_GLOBALS)]
    [InlineData("LUA_MULTRET", LuaNative.LUA_MULTRET)]
    public void TheCSideAgreesOnStatusCodesAndConstants(string name, int csharp)
    {
        Assert.True(LuaNative.assay_constant(name, out int c), $"assay_native.c does not know {name}");
        Assert.Equal(c, csharp);
    }

    [Fact]
    public void TheCSideRejectsUnknownConstantNames() => Assert.False(LuaNative.assay_constant("LUA_NOPE", out _));

    [Fact]
    public void SyntaxErrorsNameTheChunkAndLine()
    {
        using var h = new LuaHarness();
        var e = Assert.Throws<LuaException>(() => h.Vm.RunMain("local x = \n = 2"u8, "@script.lua"));
        Assert.StartsWith("script.lua:2:", e.Message);
    }

    [Fact]
    public void RuntimeErrorsKeepFileLineAndTraceback()
    {
        using var h = new LuaHarness();
        var task = h.Run("local function f()\n  error('boom')\nend\nf()");
        Assert.False(task.Succeeded);
        Assert.StartsWith("test.lua:2: boom", task.ErrorReport);
        Assert.Contains("stack traceback:", task.ErrorReport);
        Assert.Contains("test.lua:4: in main chunk", task.ErrorReport);
    }

    [Fact]
    public void StandardLibrariesStayWhole()
    {
        using var h = new LuaHarness();
        Assert.Equal("function", h.Eval("type(os.getenv)"));
        Assert.Equal("function", h.Eval("type(os.exit)"));
        Assert.Equal("function", h.Eval("type(load)"));
        Assert.Equal("3", h.Eval("7 // 2"));
        Assert.Equal("integer", h.Eval("math.type(1)"));
        Assert.Equal("true", h.Eval("assert(true)"));
    }
}

/// <summary>Leak checks read process-wide memory: they run alone, not beside other test classes.</summary>
[CollectionDefinition(nameof(MemoryMeasurements), DisableParallelization = true)]
public class MemoryMeasurements;
