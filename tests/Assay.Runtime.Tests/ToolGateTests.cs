namespace Assay.Runtime.Tests;

/// <summary>
/// tool.approve / tool.gate (issue 20): in a host that can ask a person (tool mode), a gate stops
/// the run and hands the request over as a value; a pcall around it cannot catch the stop, and the
/// script does not go on past it. Elsewhere a gate is an ordinary, catchable error.
/// </summary>
public class ToolGateTests
{
    [Fact]
    public void AGateHaltsTheRunThroughPcallAndHandsTheRequestOver()
    {
        using var h = new LuaHarness();
        h.Runtime.ApprovalGatesHalt = true;
        var task = h.Run("""
            stage = "before"
            local ok, err = pcall(tool.approve, "drop the table?", { table = "users" })
            stage = "after pcall"
            for _ = 1, 3 do pcall(error, "more") end
            stage = "end"
            """);
        Assert.False(task.Succeeded);
        Assert.Equal(new ApprovalRequest("drop the table?", """{"table":"users"}"""), h.Runtime.PendingApproval);
        Assert.Equal(Builtins.ToolModule.HaltReason, h.Vm.InterruptReason);
        h.Vm.ClearInterrupt();
        Assert.Equal("before", h.Eval("stage"));
    }

    [Fact]
    public void WithoutAHostThatAsksAGateIsACatchableError()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local ok, err = pcall(tool.approve, "deploy?")
            assert.eq(ok, false)
            assert.contains(err, "tool.approve: no one can answer an approval gate here; run the script in tool mode (assay run --mode tool) to ask: deploy?")
            assert.eq(tool.gate("deploy?"), nil)
            assert.error(function() tool.approve(nil) end, "tool.approve: prompt must be a string, got nil")
            assert.error(function() tool.gate("x", { f = print }) end, "tool.gate: context cannot be encoded as JSON")
            """);
        Assert.Null(h.Runtime.PendingApproval);
        Assert.False(h.Vm.IsInterrupted);
    }
}
