using System.Text;
using Assay.Lua;
using Assay.Lua.Loop;

namespace Assay.Runtime.Tests;

/// <summary>
/// The one way the C# tests run Lua: a fresh runtime (its log kept in <see cref="Log"/>), and
/// <list type="bullet">
/// <item>scripts run through the event loop, as <c>assay</c> runs them: <see cref="Run"/>,
/// <see cref="RunFile"/>, <see cref="Ok"/> (must succeed), <see cref="Fails"/> (must fail);</item>
/// <item>results read back as text: <see cref="Eval"/> (an expression, tostring'd) and
/// <see cref="Error"/> (code that must raise: the message);</item>
/// <item>chunks run directly on the main state, for the value converters under test from C#:
/// <see cref="Chunk{T}"/>, <see cref="Chunk(string)"/>, <see cref="ChunkError"/>.</item>
/// </list>
/// A test class derives from it (a fresh runtime for every test) or creates one per test.
/// </summary>
public class LuaHarness : IDisposable
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

    // ---------------------------------------------------------------- scripts, through the event loop

    /// <summary>Runs code as the main task through the event loop (chunk "@test.lua"); returns the finished task.</summary>
    public LuaTask Run(string code, CancellationToken stop = default) =>
        Vm.RunMain(Encoding.UTF8.GetBytes(code), "@test.lua", null, stop);

    /// <summary>Runs a Lua file as the main task, named by its path as `assay FILE` names it.</summary>
    public LuaTask RunFile(string path, CancellationToken stop = default) =>
        Vm.RunMain(File.ReadAllBytes(path), "@" + path, null, stop);

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

    // ---------------------------------------------------------------- results as text

    /// <summary>tostring() of an expression (a global a script left behind, a call), evaluated on the main state.</summary>
    public string? Eval(string expression) => Chunk($"return tostring({expression})", L => L.ToStringValue(-1));

    /// <summary>Runs code through the event loop that must raise; returns tostring() of the error.</summary>
    public string Error(string code)
    {
        Ok($"local ok, err = pcall(function() {code} end)\nassert(not ok, 'expected an error')\n__result = tostring(err)");
        return Eval("__result")!;
    }

    // ---------------------------------------------------------------- chunks, directly on the main state

    /// <summary>
    /// Runs a chunk on the main state, without the event loop (chunk name "=test"): <paramref name="args"/>
    /// pushes its arguments (returns their count), <paramref name="read"/> reads its one result, which is popped after.
    /// </summary>
    public T Chunk<T>(string code, Func<LuaState, T> read, Func<LuaState, int>? args = null)
    {
        Vm.Execute(code, "=test", args, nresults: 1);
        var L = Vm.Main;
        try { return read(L); }
        finally { L.Pop(1); }
    }

    /// <summary>Runs a chunk that returns one string and gives it back.</summary>
    public string Chunk(string code) =>
        Chunk(code, L => L.ToStringValue(-1) ?? throw new InvalidOperationException($"chunk returned a {L.TypeOf(-1)}"));

    /// <summary>Runs a chunk on the main state that must raise; returns the message.</summary>
    public string ChunkError(string code) => Assert.Throws<LuaException>(() => Vm.Execute(code, "=test")).Message;

    public virtual void Dispose()
    {
        Runtime.Dispose();
        GC.SuppressFinalize(this);
    }
}
