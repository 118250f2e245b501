using Assay.Lua;

namespace Assay.Runtime.Tests;

/// <summary>
/// The Lua that runs at every start (the loop's bootstrap, the builtin preludes) is compiled into
/// the binary as bytecode (src/Assay.Lua/build/LuaBytecode.targets): it must still name its chunk
/// and lines in errors, and only those embedded chunks may be loaded as binary — user code stays
/// source text.
/// </summary>
public class PrecompiledLuaTests
{
    static string PreludeDir => Path.Combine(HttpLuaTests.RepoRoot(), "src", "Assay.Runtime", "prelude");

    [Fact]
    public void EveryPreludeIsEmbeddedAsBytecodeAndNotAsSource()
    {
        var preludes = Directory.GetFiles(PreludeDir, "*.lua");
        Assert.NotEmpty(preludes);
        foreach (var file in preludes)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            Assert.True(Assay.Runtime.EmbeddedFiles.TryGet($"prelude/{name}.luac", out var code), $"prelude/{name}.luac is not embedded");
            Assert.True(code.StartsWith("\u001bLua"u8), $"prelude/{name}.luac is not Lua bytecode");
            Assert.False(Assay.Runtime.EmbeddedFiles.TryGet($"prelude/{name}.lua", out _), $"prelude/{name}.lua is still embedded as source");
        }
    }

    [Fact]
    public void EmbeddedBytecodeIsStaticDataNotACopyPerLookup()
    {
        var first = Assay.Runtime.EmbeddedFiles.Get("prelude/json.luac");
        var second = Assay.Runtime.EmbeddedFiles.Get("prelude/json.luac");
        Assert.True(first.Overlaps(second) && first.Length == second.Length, "each lookup allocated a new array");
    }

    [Fact]
    public void PreludeFunctionsKeepTheirChunkNameAndLineNumbers()
    {
        using var h = new LuaHarness();
        Assert.Equal("=[assay assert]", h.Eval("debug.getinfo(assert.error, 'S').source"));
        Assert.Equal("=[assay loop]", h.Eval("debug.getinfo(coroutine.wrap, 'S').source"));
        // a traceback taken inside a callback of assert.error passes through the prelude's pcall line
        int line = Array.FindIndex(File.ReadAllLines(Path.Combine(PreludeDir, "assert.lua")), l => l.Contains("local ok, err = pcall(fn)")) + 1;
        Assert.True(line > 0);
        var trace = h.Eval("assert.error(function() error(debug.traceback('inside', 1)) end)");
        Assert.Contains($"[assay assert]:{line}: in ", trace);
    }

    [Fact]
    public void BytecodeLoadsOnlyThroughThePrecompiledPathWhichTakesNothingElse()
    {
        using var h = new LuaHarness();
        h.Vm.Execute("return string.dump(function() return 1 end)", "=test", nresults: 1);
        var bytecode = h.Vm.Main.ToBytes(-1).ToArray();
        h.Vm.Main.Pop(1);
        // a script holding bytecode is refused, as before the preludes were precompiled
        var script = Assert.Throws<LuaException>(() => h.Vm.RunMain(bytecode, "@script.lua"));
        Assert.Contains("attempt to load a binary chunk", script.Message);
        // and the precompiled path takes bytecode only
        var text = Assert.Throws<LuaException>(() => h.Vm.ExecutePrecompiled("return 1"u8, "=[assay x]"));
        Assert.Contains("attempt to load a text chunk", text.Message);
    }
}
