using System.Runtime.InteropServices;

namespace Assay.Runtime;

/// <summary>What <see cref="ConfinedPath.Resolve"/> found for a name below a root folder.</summary>
public enum ConfinedStatus
{
    /// <summary>The name resolves to an existing path inside the root.</summary>
    Found,
    /// <summary>Nothing exists under that name (or the root itself is gone).</summary>
    Missing,
    /// <summary>The name is malformed (<c>..</c>, backslash, NUL, …) or resolves outside the root.</summary>
    Outside,
    /// <summary>A segment is a dotfile (<c>.env</c>, <c>.git</c>) and dotfiles are not allowed.</summary>
    Hidden,
}

/// <summary>
/// The one rule for every API that serves or reads files "below a folder" (<c>http.static</c>,
/// the template loader's include/extends/import): a name is split into segments, <c>..</c>,
/// backslashes and NULs are refused, and the joined path is resolved through every symlink of
/// every component (realpath(3)). The result must lie inside the root's own real path — comparing
/// path text alone lets a directory symlink (<c>static/etc -> /etc</c>) escape. The real path is
/// returned, so callers read (and size) the target, never the link.
/// </summary>
public static unsafe partial class ConfinedPath
{
    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint SysRealPath(string path, nint resolved);

    /// <summary>The canonical absolute path with every symlink resolved, or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        if (path.Length == 0 || path.Contains('\0')) return null;
        nint p = SysRealPath(path, 0);
        if (p == 0) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { NativeMemory.Free((void*)p); }
    }

    /// <summary>
    /// Resolves <paramref name="name"/> ('/'-separated, already percent-decoded) below
    /// <paramref name="realRoot"/> (a path from <see cref="RealPath"/>). <paramref name="extraForbidden"/>
    /// lists further characters a segment may not contain.
    /// </summary>
    public static ConfinedStatus Resolve(string realRoot, string name, bool allowDotfiles, out string? full, string extraForbidden = "")
    {
        full = null;
        var parts = new List<string>();
        foreach (var seg in name.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (seg == ".") continue;
            if (seg == ".." || seg.Contains('\\') || seg.Contains('\0') || seg.AsSpan().IndexOfAny(extraForbidden) >= 0)
                return ConfinedStatus.Outside;
            if (seg[0] == '.' && !allowDotfiles) return ConfinedStatus.Hidden;
            parts.Add(seg);
        }
        var real = RealPath(Path.Join([realRoot, .. parts]));
        if (real == null) return ConfinedStatus.Missing;
        if (!IsInside(realRoot, real)) return ConfinedStatus.Outside;
        full = real;
        return ConfinedStatus.Found;
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="root"/> or lies below it (both real paths).</summary>
    public static bool IsInside(string root, string path)
    {
        if (path == root) return true;
        var prefix = root.EndsWith('/') ? root : root + "/";
        return path.StartsWith(prefix, StringComparison.Ordinal);
    }
}
