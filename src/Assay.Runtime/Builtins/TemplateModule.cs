using Assay.Runtime.Templates;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>template.render(path, vars?)</c> and <c>template.render_string(text, vars?)</c>: Jinja2
/// templates rendered by the in-project engine (Runtime/Templates). Rendering works on .NET
/// values only, so it runs off the loop thread; file templates are read there too.
/// Reference page: docs/modules/template.md.
/// </summary>
public static class TemplateModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("template", ("render", Render), ("render_string", RenderString));
    }

    /// <summary>The vars table (argument 2) as .NET values; null when none was given.</summary>
    static object? ReadVars(LuaCall call)
    {
        if (!call.OptTable(2, "vars table")) return null;
        object? vars;
        try
        {
            vars = LuaValues.ToClr(call.L, 2);
        }
        catch (LuaValueException e)
        {
            e.Prefix = "vars: ";
            throw new BuiltinError(e.Message);
        }
        if (vars is List<object?> { Count: > 0 }) throw new BuiltinError("vars must be a table with string keys, not an array");
        return vars;
    }

    static int RenderString(LuaCall call)
    {
        var text = call.CheckStrictString(1);
        var vars = ReadVars(call);
        // Small templates render inline: a thread-pool round trip costs more than the render.
        if (text.Length < 16 * 1024)
        {
            try
            {
                call.L.PushString(TemplateEngine.RenderString(text, vars));
                return 1;
            }
            catch (TemplateException e)
            {
                return call.Fail(e.Message);
            }
        }
        return call.Await(Task.Run(() => TemplateEngine.RenderString(text, vars)), Push);
    }

    static int Render(LuaCall call)
    {
        var path = call.CheckStrictString(1);
        var vars = ReadVars(call);
        // Reading and rendering happen on the thread pool; a failure surfaces as
        // "template.render: <template>:<line>: <problem>" (the loop prefixes the function name).
        return call.Await(Task.Run(() => TemplateEngine.RenderFile(path, vars)), Push);
    }

    static int Push(LuaState L, string text)
    {
        L.PushString(text);
        return 1;
    }
}
