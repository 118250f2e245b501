using Assay.Lua;

namespace Assay.Runtime.Builtins.Http;

/// <summary>
/// <c>http.static(dir)</c>: a handler that serves files below <c>dir</c>. The request path is
/// percent-decoded, then any <c>..</c> segment, NUL, backslash or drive-like segment is refused,
/// and the resolved full path must still lie inside the root. The file itself is streamed by
/// Kestrel (<c>{file = path}</c> response), never loaded into Lua.
/// </summary>
internal static class StaticFiles
{
    /// <summary>static_root(dir) → the directory's full path (raises when it does not exist).</summary>
    public static int Root(LuaCall call)
    {
        var dir = call.CheckString(1);
        var full = Path.GetFullPath(dir);
        if (!Directory.Exists(full)) return call.Error($"http.static: directory '{dir}' not found");
        call.L.PushString(full.TrimEnd('/'));
        return 1;
    }

    /// <summary>static_serve(root, relative path) → a response table: {file = …} or a 404/403.</summary>
    public static int Serve(LuaCall call)
    {
        var root = call.CheckString(1);
        var rel = call.OptString(2) ?? "";
        var L = call.L;
        var full = Resolve(root, rel);
        L.CheckStack(4);
        L.NewTable(0, 3);
        if (full != null && Directory.Exists(full)) full = Path.Join(full, "index.html");
        if (full == null || !File.Exists(full))
        {
            L.PushInteger(full == null ? 403 : 404);
            L.RawSetField(-2, "status");
            L.PushString(full == null ? "forbidden\n" : "not found\n");
            L.RawSetField(-2, "body");
            return 1;
        }
        L.PushString(full);
        L.RawSetField(-2, "file");
        return 1;
    }

    /// <summary>The full path for <paramref name="rel"/> below <paramref name="root"/>, or null when it would escape.</summary>
    public static string? Resolve(string root, string rel)
    {
        string decoded;
        try { decoded = Uri.UnescapeDataString(rel); }
        catch (UriFormatException) { return null; }
        var parts = new List<string>();
        foreach (var seg in decoded.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (seg == ".") continue;
            if (seg == ".." || seg.Contains('\\') || seg.Contains('\0') || seg.Contains(':')) return null;
            parts.Add(seg);
        }
        var full = Path.GetFullPath(Path.Join([root, .. parts]));
        if (full != root && !full.StartsWith(root + "/", StringComparison.Ordinal)) return null;
        return full;
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
