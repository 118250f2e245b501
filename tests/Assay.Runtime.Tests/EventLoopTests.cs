using System.Diagnostics;

namespace Assay.Runtime.Tests;

/// <summary>The concurrency model of architecture.md, observed from scripts.</summary>
public class EventLoopTests
{
    [Fact]
    public void FiftyTasksSleepingConcurrentlyFinishTogether()
    {
        using var h = new LuaHarness();
        var sw = Stopwatch.StartNew();
        var task = h.Run("""
            local hs = {}
            for i = 1, 50 do hs[i] = async.spawn(function() sleep(0.3) return i end) end
            total = 0
            for i = 1, 50 do total = total + hs[i].await()[1] end
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("1275", h.Eval("total"));
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.29, 1.0);
    }

    [Fact]
    public void UserCoroutinesKeepTheirOwnYieldsWhileCodeInsideWaits()
    {
        using var h = new LuaHarness();
        var task = h.Run("""
            local gen = coroutine.wrap(function(a)
              sleep(0.01)
              local b = coroutine.yield(a * 10)
              sleep(0.01)
              return b + 1, "end"
            end)
            first = gen(2)
            local x, y = gen(19)
            second = x .. "," .. y
            local co = coroutine.create(function()
              sleep(0)
              coroutine.yield("a", "b")
              return "done"
            end)
            local _, p, q = coroutine.resume(co)
            local _, r = coroutine.resume(co)
            seq = p .. q .. r .. coroutine.status(co)
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("20", h.Eval("first"));
        Assert.Equal("20,end", h.Eval("second"));
        Assert.Equal("abdonedead", h.Eval("seq"));
    }

    [Fact]
    public void WaitingInNonYieldableContextsFallsBackToASynchronousWait()
    {
        using var h = new LuaHarness();
        var task = h.Run("""
            local t = {5, 1, 4, 2, 3}
            table.sort(t, function(a, b) sleep(0) return a < b end)
            sorted = table.concat(t, ",")
            upper = ("abc"):gsub("%w", function(c) sleep(0.001) return c:upper() end)
            local co = coroutine.wrap(function()
              local u = {3, 1, 2}
              table.sort(u, function(a, b) sleep(0) return a < b end)
              return table.concat(u)
            end)
            in_coroutine = co()
            setmetatable(_G, nil)
            local obj = setmetatable({}, {__index = function(_, k) sleep(0.001) return k .. "!" end})
            via_index = obj.hi
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("1,2,3,4,5", h.Eval("sorted"));
        Assert.Equal("ABC", h.Eval("upper"));
        Assert.Equal("123", h.Eval("in_coroutine"));
        Assert.Equal("hi!", h.Eval("via_index"));
    }

    [Fact]
    public void ASlowTaskDoesNotStallOthers()
    {
        using var h = new LuaHarness();
        var task = h.Run("""
            order = {}
            local slow = async.spawn(function() sleep(0.3) order[#order+1] = "slow" end)
            local fast = async.spawn(function() sleep(0.01) order[#order+1] = "fast" end)
            slow.await(); fast.await()
            result = table.concat(order, ",")
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("fast,slow", h.Eval("result"));
    }

    [Fact]
    public void TheProcessStaysAliveForSpawnedTasksAndIntervals()
    {
        using var h = new LuaHarness();
        var task = h.Run("""
            ticks = 0
            done = false
            async.spawn(function() sleep(0.2) done = true end)
            local iv
            iv = async.spawn_interval(0.02, function()
              ticks = ticks + 1
              if ticks == 3 then iv.cancel() end
            end)
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("true", h.Eval("done"));
        Assert.Equal("3", h.Eval("ticks"));
    }

    [Fact]
    public void AwaitReturnsResultsOrReraisesTheTaskError()
    {
        using var h = new LuaHarness();
        var task = h.Run("""
            local h1 = async.spawn(function(a, b) sleep(0.01) return a + b, "x" end, 2, 3)
            local r = h1.await()
            sum, tag = r[1], r[2]
            local h2 = async.spawn(function() sleep(0.01) error({code = 42}) end)
            local ok, err = pcall(h2.await)
            code = (not ok) and err.code
            local h3 = async.spawn(function() return 1 end)
            h3.await()
            local ok2, err2 = pcall(h3.await)
            twice = err2
            local h4 = async.spawn(function() sleep(10) end)
            cancelled = h4.cancel()
            local ok3, err3 = pcall(h4.await)
            after_cancel = err3
            """);
        Assert.True(task.Succeeded, task.ErrorReport);
        Assert.Equal("5", h.Eval("sum"));
        Assert.Equal("x", h.Eval("tag"));
        Assert.Equal("42", h.Eval("code"));
        Assert.Contains("already awaited", h.Eval("twice"));
        Assert.Equal("true", h.Eval("cancelled"));
        Assert.Contains("cancelled", h.Eval("after_cancel"));
    }

    [Fact]
    public void UnawaitedTaskErrorsAreLogged()
    {
        using var h = new LuaHarness();
        var task = h.Run("async.spawn(function() sleep(0.01) error('lost in the background') end)");
        Assert.True(task.Succeeded);
        Assert.True(h.Vm.Loop.HadUnhandledErrors);
        Assert.Contains("lost in the background", h.Log.ToString());
    }

    [Fact]
    public void AWaitOnlyDeadlockIsReportedInsteadOfHanging()
    {
        using var h = new LuaHarness();
        var sw = Stopwatch.StartNew();
        var task = h.Run("""
            local a
            local b = async.spawn(function() sleep(0) return a.await() end)
            a = async.spawn(function() sleep(0) return b.await() end)
            a.await()
            """);
        Assert.False(task.Succeeded);
        Assert.InRange(sw.Elapsed.TotalSeconds, 0, 5);
    }

    [Fact]
    public void WorkPostedFromManyThreadsIsAllRunAndNoWakeUpIsLost()
    {
        // Producers pause now and then so the loop keeps falling asleep between posts: a lost wake-up leaves it asleep
        // with work queued (the count falls short) or never ends it (the loop thread does not finish).
        using var h = new LuaHarness();
        const int producers = 4, posts = 5000;
        var ran = 0;
        using var keep = h.Vm.Loop.KeepAlive();
        using var stop = new CancellationTokenSource();
        var loop = RunLoopOnItsOwnThread(h, stop.Token);
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            var random = new Random(p);
            for (var i = 0; i < posts; i++)
            {
                h.Vm.Loop.Post(() => ran++); // runs on the loop thread only: no interlocking needed
                if (random.Next(50) == 0) Thread.Sleep(1);
            }
        })).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref ran) < producers * posts && deadline.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(5);
        Assert.Equal(producers * posts, Volatile.Read(ref ran));
        stop.Cancel();
        Assert.True(loop.Join(TimeSpan.FromSeconds(10)), "the loop did not end after its stop token was cancelled");
    }

    [Fact]
    public void CancellingTheStopTokenEndsAnIdleLoopAtOnce()
    {
        using var h = new LuaHarness();
        using var keep = h.Vm.Loop.KeepAlive(); // nothing to do, but the loop may not end by itself
        using var stop = new CancellationTokenSource();
        var loop = RunLoopOnItsOwnThread(h, stop.Token);
        Thread.Sleep(100); // asleep by now
        var sw = Stopwatch.StartNew();
        stop.Cancel();
        Assert.True(loop.Join(TimeSpan.FromSeconds(10)), "the loop did not end after its stop token was cancelled");
        Assert.InRange(sw.Elapsed.TotalSeconds, 0, 1);
    }

    /// <summary>The loop on a background thread, so a loop that never wakes fails the test instead of hanging the run.</summary>
    static Thread RunLoopOnItsOwnThread(LuaHarness h, CancellationToken stop)
    {
        var thread = new Thread(() => h.Vm.Loop.Run(null, stop)) { IsBackground = true };
        thread.Start();
        return thread;
    }
}
