namespace Assay.Runtime.Tests;

/// <summary>Non-core modules install on first use of their global (prelude/lazy.lua).</summary>
public sealed class LazyModulesTests
{
    [Fact]
    public void ModulesInstallOnFirstUseOnly()
    {
        using var h = new LuaHarness();
        Assert.False(h.Runtime.IsInstalled("yaml"));
        Assert.False(h.Runtime.IsInstalled("http"));
        h.Ok("assert.eq(type(yaml), 'table') assert.eq(yaml.encode({a = 1}), 'a: 1\\n')");
        Assert.True(h.Runtime.IsInstalled("yaml"));
        Assert.False(h.Runtime.IsInstalled("crypto"));
    }

    [Fact]
    public void AGlobalTakenBeforeUseWorksAfterTheModuleReplacedIt()
    {
        using var h = new LuaHarness();
        // http's prelude creates a new `http` table: the placeholder a script held gets its functions
        h.Ok("""
            local h, t = http, tool
            assert.eq(type(h.get), "function")
            assert.eq(type(t.is_tool_mode), "function")
            assert.eq(type(http.post), "function")
            """);
        Assert.True(h.Runtime.IsInstalled("ws")); // server-side WebSocket routes need its hooks
    }

    [Fact]
    public void PairsOverAnUntouchedModuleSeesItsFunctions()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local names = {}
            for k, v in pairs(regex) do if type(v) == "function" then names[#names + 1] = k end end
            table.sort(names)
            assert.contains(table.concat(names, " "), "compile")
            assert.contains(table.concat(names, " "), "find_all")
            """);
    }

    [Fact]
    public void ModulesWorkFromInsideCoroutinesAndSortComparators()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local co = coroutine.wrap(function() return base64.encode("hi") end)
            assert.eq(co(), "aGk=")
            local t = {"b", "a"}
            table.sort(t, function(x, y) return hex.encode(x) < hex.encode(y) end)
            assert.eq(t[1], "a")
            """);
    }
}
