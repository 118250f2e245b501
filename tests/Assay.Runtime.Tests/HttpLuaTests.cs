using System.Text;

namespace Assay.Runtime.Tests;

/// <summary>
/// Runs the Lua test files of the web modules (tests/lua/http_*_test.lua, ws_*_test.lua) in-process,
/// so they also run under `dotnet test` (the real binary runs them through `assay test tests/lua`).
/// http_sigterm_test.lua signals its own process, and files that start the binary itself (they read
/// ASSAY_BIN: shutdown of a child server, its memory) run only under the real binary.
/// </summary>
public class HttpLuaTests
{
    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Assay.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(RepoRoot(), "tests", "lua"))
                     .Where(f => Path.GetFileName(f) is var n && (n.StartsWith("http_") || n.StartsWith("ws_")) && n.EndsWith("_test.lua") && !n.Contains("sigterm") && !File.ReadAllText(f).Contains("ASSAY_BIN"))
                     .OrderBy(f => f))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void LuaFile(string name)
    {
        var path = Path.Combine(RepoRoot(), "tests", "lua", name);
        using var h = new LuaHarness();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var task = h.RunFile(path, stop.Token);
        Assert.False(stop.IsCancellationRequested, $"{name} did not finish within 60 s\n{h.Log}");
        Assert.True(task.IsFinished, $"{name} did not finish\n{h.Log}");
        Assert.True(task.Succeeded, $"{name} failed: {task.ErrorReport}\n--- log ---\n{h.Log}");
    }
}
