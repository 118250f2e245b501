namespace Assay.Runtime.Builtins.Http;

/// <summary>
/// <c>http.static(dir, opts?)</c>: a handler that serves files below <c>dir</c>. The request path
/// is percent-decoded and resolved by <see cref="ConfinedPath"/> (every symlink of every component;
/// the real path must stay inside the real root, so a directory link to /etc is refused), and
/// dotfiles (<c>.env</c>, <c>.git/</c>) are not served unless <c>opts.dotfiles</c> is true. The
/// file itself (the link's target) is streamed by Kestrel (<c>{file = path}</c>), never loaded into Lua.
/// </summary>
internal static class StaticFiles
{
    /// <summary>static_root(dir) → the directory's real path (raises when it does not exist).</summary>
    public static int Root(LuaCall call)
    {
        var dir = call.CheckPath(1);
        var real = ConfinedPath.RealPath(Path.GetFullPath(dir));
        if (real == null || !Directory.Exists(real)) return call.Fail($"directory '{dir}' not found");
        call.L.PushString(real);
        return 1;
    }

    /// <summary>static_serve(root, relative path, dotfiles) → a response table: {file = …} or a 404/403.</summary>
    public static int Serve(LuaCall call)
    {
        var root = call.CheckString(1);
        var rel = call.OptString(2) ?? "";
        bool dotfiles = call.L.ToBoolean(3);
        var L = call.L;
        var status = Resolve(root, rel, dotfiles, out var full);
        L.CheckStack(4);
        L.NewTable(0, 3);
        if (status != ConfinedStatus.Found)
        {
            bool refused = status == ConfinedStatus.Outside;
            L.PushInteger(refused ? 403 : 404);
            L.RawSetField(-2, "status");
            L.PushString(refused ? "forbidden\n" : "not found\n");
            L.RawSetField(-2, "body");
            return 1;
        }
        L.PushString(full!);
        L.RawSetField(-2, "file");
        return 1;
    }

    /// <summary>
    /// The real path of the regular file for <paramref name="rel"/> below <paramref name="root"/>
    /// (a directory stands for its index.html). Hidden names answer Missing: a 404 does not
    /// reveal that a .env exists.
    /// </summary>
    public static ConfinedStatus Resolve(string root, string rel, bool dotfiles, out string? full)
    {
        full = null;
        string decoded;
        try { decoded = Uri.UnescapeDataString(rel); }
        catch (UriFormatException) { return ConfinedStatus.Outside; }
        var status = ConfinedPath.Resolve(root, decoded, dotfiles, out full, extraForbidden: ":");
        if (status == ConfinedStatus.Found && Directory.Exists(full))
            status = ConfinedPath.Resolve(root, decoded + "/index.html", dotfiles, out full, extraForbidden: ":");
        if (status == ConfinedStatus.Hidden) return ConfinedStatus.Missing;
        if (status == ConfinedStatus.Found && !File.Exists(full)) return ConfinedStatus.Missing;
        return status;
    }

    public static string ContentType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".html" or ".htm" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" or ".mjs" => "text/javascript; charset=utf-8",
        ".json" or ".map" => "application/json",
        ".txt" or ".md" => "text/plain; charset=utf-8",
        ".csv" => "text/csv; charset=utf-8",
        ".xml" => "application/xml",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".webp" => "image/webp",
        ".ico" => "image/x-icon",
        ".wasm" => "application/wasm",
        ".pdf" => "application/pdf",
        ".woff" => "font/woff",
        ".woff2" => "font/woff2",
        ".mp4" => "video/mp4",
        _ => "application/octet-stream",
    };
}
