namespace Assay.Runtime.Tests;

/// <summary>
/// Runs Lua through the event loop for the batteries tests (yaml, toml, base64, hex, url, crypto,
/// regex, markdown, fs): <see cref="Ok"/> runs code whose assert.* calls are the test,
/// <see cref="Error"/> runs code that must raise and returns the message.
/// </summary>
public abstract class BatteriesTest : IDisposable
{
    protected readonly LuaHarness H = new();

    public virtual void Dispose() => H.Dispose();

    protected void Ok(string code)
    {
        var task = H.Run(code);
        Assert.True(task.Succeeded, task.ErrorReport);
    }

    /// <summary>Evaluates a Lua expression through the event loop and returns tostring() of it.</summary>
    protected string Eval(string expression)
    {
        Ok($"__result = tostring({expression})");
        return H.Eval("__result")!;
    }

    protected string Error(string code)
    {
        Ok($"local ok, err = pcall(function() {code} end)\nassert(not ok, 'expected an error')\n__result = tostring(err)");
        return H.Eval("__result")!;
    }
}
