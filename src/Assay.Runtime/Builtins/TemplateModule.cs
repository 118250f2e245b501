using Assay.Lua;
using Assay.Lua.Values;
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

    static bool ReadVars(LuaCall call, string fn, out object? vars, out int error)
    {
        vars = null;
        error = 0;
        var L = call.L;
        if (L.IsNoneOrNil(2)) return true;
        if (L.TypeOf(2) != LuaType.Table)
        {
            error = call.Error($"{fn}: second argument must be a table or nil, got {call.TypeName(2)}");
            return false;
        }
        try
        {
            vars = LuaValues.ToClr(L, 2);
        }
        catch (LuaValueException e)
        {
            e.Prefix = $"{fn}: vars: ";
            error = call.Error(e.Message);
            return false;
        }
        if (vars is List<object?> { Count: > 0 })
        {
            error = call.Error($"{fn}: vars must be a table with string keys, not an array");
            return false;
        }
        return true;
    }

    static int RenderString(LuaCall call)
    {
        var L = call.L;
        if (L.TypeOf(1) != LuaType.String) throw call.ArgError(1, $"string expected, got {call.TypeName(1)}");
        var text = call.CheckString(1);
        if (!ReadVars(call, "template.render_string", out var vars, out int err)) return err;
        // Small templates render inline: a thread-pool round trip costs more than the render.
        if (text.Length < 16 * 1024)
        {
            try
            {
                L.PushString(TemplateEngine.RenderString(text, vars));
                return 1;
            }
            catch (TemplateException e)
            {
                return call.Error("template.render_string: " + e.Message);
            }
        }
        return call.Vm.Loop.Await(call, Task.Run(() => TemplateEngine.RenderString(text, vars)), Push);
    }

    static int Render(LuaCall call)
    {
        var L = call.L;
        if (L.TypeOf(1) != LuaType.String) throw call.ArgError(1, $"string expected, got {call.TypeName(1)}");
        var path = call.CheckString(1);
        if (!ReadVars(call, "template.render", out var vars, out int err)) return err;
        // Reading and rendering happen on the thread pool; a failure surfaces as
        // "template.render: <template>:<line>: <problem>" (the loop prefixes the function name).
        return call.Vm.Loop.Await(call, Task.Run(() => TemplateEngine.RenderFile(path, vars)), Push);
    }

    static int Push(LuaState L, string text)
    {
        L.PushString(text);
        return 1;
    }
}
