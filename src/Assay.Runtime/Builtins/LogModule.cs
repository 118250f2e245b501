namespace Assay.Runtime.Builtins;

/// <summary><c>log.debug/info/warn/error(msg, fields?)</c> to stderr through <see cref="Logger"/>.</summary>
public static class LogModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("log",
            ("debug", call => Write(rt.Logger, LogLevel.Debug, call)),
            ("info", call => Write(rt.Logger, LogLevel.Info, call)),
            ("warn", call => Write(rt.Logger, LogLevel.Warn, call)),
            ("error", call => Write(rt.Logger, LogLevel.Error, call)));
    }

    static int Write(Logger logger, LogLevel level, LuaCall call)
    {
        if (!logger.IsEnabled(level)) return 0;
        var message = Display(call.L, 1);
        List<KeyValuePair<string, string>>? fields = null;
        if (call.L.TypeOf(2) == LuaType.Table)
        {
            fields = [];
            call.L.PushNil();
            while (call.L.Next(2))
            {
                var key = Display(call.L, -2);
                fields.Add(new(key, Display(call.L, -1)));
                call.L.Pop(1);
            }
            fields.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        }
        logger.Log(level, message, fields);
        return 0;
    }

    /// <summary>Any value as text, without calling metamethods (they could raise here).</summary>
    static string Display(LuaState L, int idx) => L.TypeOf(idx) switch
    {
        LuaType.String or LuaType.Number => L.ToStringValue(idx)!,
        LuaType.Nil or LuaType.None => "nil",
        LuaType.Boolean => L.ToBoolean(idx) ? "true" : "false",
        var t => $"{t.ToString().ToLowerInvariant()}: 0x{L.ToPointer(idx):x}",
    };
}
