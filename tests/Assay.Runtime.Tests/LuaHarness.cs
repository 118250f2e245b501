using System.Text;
using Assay.Lua;
using Assay.Runtime;

namespace Assay.Runtime.Tests;

/// <summary>Runs Lua in a fresh runtime and reads globals back, for assertions from C#.</summary>
public sealed class LuaHarness : IDisposable
{
    public AssayRuntime Runtime { get; }
    public StringWriter Log { get; } = new();

    public LuaHarness(long memoryLimit = 1L << 30)
    {
        Runtime = new AssayRuntime(new RuntimeOptions
        {
            MemoryLimitBytes = memoryLimit,
            Logger = new Logger(LogLevel.Debug, LogFormat.Text, Log),
        });
    }

    public LuaVm Vm => Runtime.Vm;

    /// <summary>Runs code as the main task through the event loop; returns the finished task.</summary>
    public Assay.Lua.Loop.LuaTask Run(string code, CancellationToken stop = default) =>
        Vm.RunMain(Encoding.UTF8.GetBytes(code), "@test.lua", null, stop);

    /// <summary>Evaluates an expression synchronously and returns it as text (tostring).</summary>
    public string? Eval(string expression)
    {
        Vm.Execute($"return tostring({expression})", "=eval", null, 1);
        var value = Vm.Main.ToStringValue(-1);
        Vm.Main.Pop(1);
        return value;
    }

    /// <summary>Runs code that must succeed (the failure message carries the Lua traceback).</summary>
    public void Ok(string code)
    {
        var task = Run(code);
        Assert.True(task.Succeeded, task.ErrorReport);
    }

    /// <summary>Runs code in a fresh runtime that must fail; returns the error report.</summary>
    public static string Fails(string code)
    {
        using var h = new LuaHarness();
        var task = h.Run(code);
        Assert.False(task.Succeeded, "expected an error");
        return task.ErrorReport ?? "";
    }

    public void Dispose() => Runtime.Dispose();
}
