namespace Assay.Lua;

public static class LuaErrors
{
    /// <summary>Drops the event loop's own frames from a traceback: users see only their code.</summary>
    public static string CleanTraceback(string report)
    {
        var kept = report.Split('\n').Where(l => !l.Contains("[assay ") && !l.Contains("in function 'xpcall'"));
        return string.Join('\n', kept).TrimEnd();
    }
}
