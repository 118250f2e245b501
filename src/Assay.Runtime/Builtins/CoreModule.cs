namespace Assay.Runtime.Builtins;

/// <summary><c>sleep(secs)</c> and <c>time()</c>.</summary>
public static class CoreModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterGlobal("sleep", Sleep);
        rt.Vm.RegisterGlobal("time", static call =>
        {
            call.L.PushNumber((DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds);
            return 1;
        });
    }

    static int Sleep(LuaCall call)
    {
        double secs = call.CheckNumber(1);
        if (double.IsNaN(secs) || secs < 0 || double.IsInfinity(secs))
            return call.Fail($"duration must be a finite number of seconds >= 0, got {LuaFormat.Number(secs)}");
        if (secs > int.MaxValue / 1000.0)
            return call.Fail("duration too long (max ~24 days)");
        var delay = Task.Delay(TimeSpan.FromSeconds(secs), call.Vm.Cancellation);
        return call.Await(delay);
    }
}
