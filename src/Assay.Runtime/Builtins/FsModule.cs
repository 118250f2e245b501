using System.Text.RegularExpressions;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>fs.*</c>: binary-safe file access. Every call that touches the disk runs as a .NET task
/// awaited through the event loop, so a slow disk never stalls other coroutines. Errors read
/// "fs.fn: &lt;problem&gt;: \"path\"". Reference page: docs/modules/fs.md.
/// </summary>
public static class FsModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("fs",
            ("read", static call => ReadFile(call)),
            ("read_bytes", static call => ReadFile(call)),
            ("write", static call => WriteFile(call, append: false)),
            ("write_bytes", static call => WriteFile(call, append: false)),
            ("append", static call => WriteFile(call, append: true)),
            ("write_atomic", WriteAtomic),
            ("exists", static call => Bool(call, p => Kind(p) != null)),
            ("is_file", static call => Bool(call, p => Kind(p) == "file")),
            ("is_dir", static call => Bool(call, p => Kind(p) == "directory")),
            ("stat", Stat),
            ("list", List),
            ("readdir", ReadDir),
            ("glob", Glob),
            ("mkdir", Mkdir),
            ("copy", Copy),
            ("rename", Rename),
            ("remove", Remove),
            ("tempdir", TempDir),
            ("chmod", Chmod));
    }

    // ------------------------------------------------------------------ plumbing

    /// <summary>Runs <paramref name="work"/> off the loop thread and resumes the caller with its result.</summary>
    static int Run<T>(LuaCall call, Func<T> work, Func<LuaState, T, int> push) =>
        call.Await(Task.Run(work, call.Vm.Cancellation), push);

    static int Run(LuaCall call, Action work) =>
        call.Await(Task.Run(work, call.Vm.Cancellation));

    /// <summary>Runs one file operation, turning .NET's exceptions into "problem: \"path\"" (the loop prefixes "fs.fn: ").</summary>
    static T Io<T>(string path, Func<T> op)
    {
        try { return op(); }
        catch (FileNotFoundException) { throw new BuiltinError($"no such file or directory: \"{path}\""); }
        catch (DirectoryNotFoundException) { throw new BuiltinError($"no such file or directory: \"{path}\""); }
        catch (UnauthorizedAccessException) { throw new BuiltinError($"permission denied: \"{path}\""); }
        catch (PathTooLongException) { throw new BuiltinError($"path too long: \"{path}\""); }
        catch (IOException e) { throw new BuiltinError($"{Trim(e.Message)}: \"{path}\""); }
        catch (ArgumentException e) { throw new BuiltinError($"invalid path ({Trim(e.Message)}): \"{path}\""); }
    }

    static void Io(string path, Action op) => Io(path, () => { op(); return true; });

    /// <summary>.NET messages quote the path themselves; keep only the reason.</summary>
    static string Trim(string message)
    {
        var m = message.TrimEnd('.');
        int colon = m.IndexOf(" : '", StringComparison.Ordinal);
        if (colon > 0) m = m[..colon];
        return m.Length > 0 ? char.ToLowerInvariant(m[0]) + m[1..] : m;
    }

    static bool IsSymlink(string path)
    {
        try { return new FileInfo(path).LinkTarget != null; }
        catch (IOException) { return false; }
    }

    /// <summary>"file", "directory" or null (missing, or a broken link): symlinks are followed.</summary>
    static string? Kind(string path)
    {
        try
        {
            var target = path;
            if (IsSymlink(path))
            {
                var resolved = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
                if (resolved == null) return null;
                target = resolved.FullName;
            }
            return Directory.Exists(target) ? "directory" : File.Exists(target) ? "file" : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>A character or block device, FIFO or socket (after symlinks): .NET cannot tell these from files.</summary>
    static bool IsSpecialFile(string path) => Assay.Lua.Interop.NativeFiles.KindOf(path) == Assay.Lua.Interop.FileKind.Special;

    static string TypeOf(FileSystemInfo info) =>
        info.LinkTarget != null ? "symlink" : (info.Attributes & FileAttributes.Directory) != 0 ? "directory" : "file";

    // ------------------------------------------------------------------ reading and writing

    static int ReadFile(LuaCall call)
    {
        var path = call.CheckPath(1);
        var budget = ReadBudget(call.Vm);
        return Run(call, () => Io(path, () =>
        {
            if (Directory.Exists(path)) throw new BuiltinError($"is a directory: \"{path}\"");
            return ReadCapped(path, budget);
        }), static (L, bytes) => { L.PushBytes(bytes.Span); return 1; });
    }

    /// <summary>What a read may bring into the Lua heap: the memory limit minus what is in use.</summary>
    readonly record struct Budget(long Bytes, long LimitMiB);

    static Budget ReadBudget(LuaVm vm)
    {
        long limit = vm.Options.MemoryLimitBytes;
        return limit <= 0 ? new(Array.MaxLength, 0) : new(Math.Clamp(limit - vm.MemoryUsed, 0, Array.MaxLength), limit >> 20);
    }

    /// <summary>
    /// Reads a whole file, failing as soon as it outgrows <paramref name="budget"/>: the size of a
    /// device or pipe is unknown until its end (/dev/zero has none), so the cap is checked as the
    /// data arrives rather than trusted to the reported length.
    /// </summary>
    static ReadOnlyMemory<byte> ReadCapped(string path, Budget budget)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        long known = stream.CanSeek ? stream.Length : 0;
        if (known > budget.Bytes) throw TooLarge(path, budget);
        // one spare byte, so reaching the end of a file of known size takes no extra resize
        var buffer = new byte[Math.Min(Math.Min(budget.Bytes + 1, Array.MaxLength), known > 0 ? known + 1 : 64 * 1024)];
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                long grown = Math.Min(2L * buffer.Length, Math.Min(budget.Bytes + 1, Array.MaxLength));
                if (grown <= buffer.Length) throw TooLarge(path, budget);
                Array.Resize(ref buffer, (int)grown);
            }
            int n = stream.Read(buffer, length, buffer.Length - length);
            if (n == 0) return buffer.AsMemory(0, length);
            length += n;
            if (length > budget.Bytes) throw TooLarge(path, budget);
        }
    }

    static BuiltinError TooLarge(string path, Budget budget) => new(budget.LimitMiB > 0
        ? $"file too large for the memory limit ({budget.Bytes >> 20} MiB left of {budget.LimitMiB} MiB; raise it with --memory-limit): \"{path}\""
        : $"file too large to read into memory: \"{path}\"");

    static int WriteFile(LuaCall call, bool append)
    {
        var path = call.CheckPath(1);
        var data = call.CheckBytes(2).ToArray();
        return Run(call, () => Io(path, () =>
        {
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
            using var stream = new FileStream(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read);
            stream.Write(data);
        }));
    }

    /// <summary>
    /// Writes a temporary file beside the target, flushes it to disk, then renames it over. The
    /// new file keeps the old one's mode, or gets opts.mode — given at creation, so a secret
    /// (a token file) is never readable by others, not even for a moment.
    /// </summary>
    static int WriteAtomic(LuaCall call)
    {
        var path = call.CheckPath(1);
        var data = call.CheckBytes(2).ToArray();
        long? mode = null;
        var opts = call.Options(3, ["mode"]);
        if (opts.Push("mode") != LuaType.Nil)
        {
            var problem = ParseMode(call, -1, out var m);
            call.L.Pop(1);
            if (problem != null) return call.Fail(problem);
            if (OperatingSystem.IsWindows()) return call.Fail("mode is not supported on Windows");
            mode = m;
        }
        else call.L.Pop(1);
        return Run(call, () => Io(path, () =>
        {
            var full = Path.GetFullPath(path);
            var dir = Path.GetDirectoryName(full)!;
            Directory.CreateDirectory(dir);
            var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.tmp-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6))}");
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (mode is { } requested && !OperatingSystem.IsWindows()) options.UnixCreateMode = (UnixFileMode)requested;
                using (var stream = new FileStream(temp, options))
                {
                    stream.Write(data);
                    stream.Flush(flushToDisk: true);
                }
                // UnixCreateMode is filtered by the umask; set the requested bits exactly
                if (mode is { } exact && !OperatingSystem.IsWindows())
                    File.SetUnixFileMode(temp, (UnixFileMode)exact);
                else if (File.Exists(full) && !OperatingSystem.IsWindows())
                    File.SetUnixFileMode(temp, File.GetUnixFileMode(full));
                File.Move(temp, full, overwrite: true);
            }
            catch
            {
                try { File.Delete(temp); } catch { /* the original error matters */ }
                throw;
            }
        }));
    }

    static int Bool(LuaCall call, Func<string, bool> test)
    {
        var path = call.CheckPath(1);
        return Run(call, () => test(path), static (L, b) => { L.PushBoolean(b); return 1; });
    }

    // ------------------------------------------------------------------ metadata

    static double Epoch(DateTime t) => (t.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds;

    sealed record StatResult(long Size, string Type, bool IsFile, bool IsDir, bool IsSymlink, double Modified, double Accessed, double Created, int Mode, string? Target);

    static int Stat(LuaCall call)
    {
        var path = call.CheckPath(1);
        return Run(call, () => Io(path, () =>
        {
            var link = new FileInfo(path);
            bool isSymlink = link.LinkTarget != null;
            var kind = Kind(path);
            bool isDir = kind == "directory", isFile = kind == "file";
            if (!isDir && !isFile)
            {
                if (isSymlink) throw new BuiltinError($"broken symbolic link: \"{path}\"");
                throw new BuiltinError($"no such file or directory: \"{path}\"");
            }
            // size, kind and times follow links; is_symlink describes the path itself
            FileSystemInfo target = isDir ? new DirectoryInfo(path) : new FileInfo(path);
            if (isSymlink && target.ResolveLinkTarget(returnFinalTarget: true) is { } resolved) target = resolved;
            long size = target is FileInfo f ? f.Length : 0;
            int mode = OperatingSystem.IsWindows() ? 0 : (int)target.UnixFileMode;
            return new StatResult(size, isDir ? "directory" : "file", isFile, isDir, isSymlink,
                Epoch(target.LastWriteTimeUtc), Epoch(target.LastAccessTimeUtc), Epoch(target.CreationTimeUtc), mode, link.LinkTarget);
        }), static (L, s) =>
        {
            L.CheckStack(4);
            L.NewTable(0, 12);
            L.PushInteger(s.Size); L.RawSetField(-2, "size");
            L.PushString(s.Type); L.RawSetField(-2, "type");
            L.PushBoolean(s.IsFile); L.RawSetField(-2, "is_file");
            L.PushBoolean(s.IsDir); L.RawSetField(-2, "is_dir");
            L.PushBoolean(s.IsSymlink); L.RawSetField(-2, "is_symlink");
            L.PushNumber(s.Modified); L.RawSetField(-2, "modified");
            L.PushNumber(s.Accessed); L.RawSetField(-2, "accessed");
            L.PushNumber(s.Created); L.RawSetField(-2, "created");
            L.PushInteger(s.Mode); L.RawSetField(-2, "mode");
            L.PushString(Convert.ToString(s.Mode, 8).PadLeft(3, '0')); L.RawSetField(-2, "permissions");
            if (s.Target != null) { L.PushString(s.Target); L.RawSetField(-2, "target"); }
            return 1;
        });
    }

    // ------------------------------------------------------------------ directories

    sealed record Entry(string Path, string Name, string Type);

    static IEnumerable<FileSystemInfo> Sorted(DirectoryInfo dir) =>
        dir.EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal);

    static int PushEntries(LuaState L, List<Entry> entries, bool withPath)
    {
        L.PushArray(entries, withPath ? PushEntryWithPath : PushEntry);
        return 1;
    }

    static void PushEntry(LuaState L, Entry e)
    {
        L.NewTable(0, 3);
        L.PushString(e.Name); L.RawSetField(-2, "name");
        L.PushString(e.Type); L.RawSetField(-2, "type");
    }

    static void PushEntryWithPath(LuaState L, Entry e)
    {
        PushEntry(L, e);
        L.PushString(e.Path); L.RawSetField(-2, "path");
    }

    static DirectoryInfo OpenDir(string path)
    {
        var dir = new DirectoryInfo(path);
        if (!dir.Exists)
            throw new BuiltinError(File.Exists(path) ? $"not a directory: \"{path}\"" : $"no such file or directory: \"{path}\"");
        return dir;
    }

    /// <summary>fs.list(dir) → {{name, type}}, sorted by name, not recursive.</summary>
    static int List(LuaCall call)
    {
        var path = call.CheckPath(1);
        return Run(call, () => Io(path, () =>
            Sorted(OpenDir(path)).Select(i => new Entry(i.Name, i.Name, TypeOf(i))).ToList()),
            static (L, entries) => PushEntries(L, entries, withPath: false));
    }

    /// <summary>
    /// fs.readdir(dir, {depth = n, recursive = true}) → {{path, name, type}} in pre-order, paths
    /// relative to dir; depth 1 is the top level only; symlinked directories are not entered.
    /// </summary>
    static int ReadDir(LuaCall call)
    {
        var path = call.CheckPath(1);
        var options = call.Options(2, ["depth", "recursive"]);
        long depth = options.Integer("depth", min: 1) ?? long.MaxValue;
        if (!options.Flag("recursive", fallback: true)) depth = 1;
        return Run(call, () => Io(path, () =>
        {
            var result = new List<Entry>();
            void Walk(DirectoryInfo dir, string prefix, long level)
            {
                foreach (var info in Sorted(dir))
                {
                    var rel = prefix.Length == 0 ? info.Name : prefix + "/" + info.Name;
                    var type = TypeOf(info);
                    result.Add(new Entry(rel, info.Name, type));
                    if (type == "directory" && level < depth) Walk((DirectoryInfo)info, rel, level + 1);
                }
            }
            Walk(OpenDir(path), "", 1);
            return result;
        }), static (L, entries) => PushEntries(L, entries, withPath: true));
    }

    /// <summary>fs.mkdir(path) → creates it and its parents (mkdir -p); an existing directory is fine.</summary>
    static int Mkdir(LuaCall call)
    {
        var path = call.CheckPath(1);
        return Run(call, () => Io(path, () =>
        {
            if (File.Exists(path)) throw new BuiltinError($"a file with that name exists: \"{path}\"");
            Directory.CreateDirectory(path);
        }));
    }

    /// <summary>
    /// fs.copy(src, dst, opts?) → bytes copied. A device, FIFO or socket as the source is refused
    /// unless <c>{allow_special = true}</c>: copying /dev/zero or /dev/urandom never ends (it fills
    /// the disk), and a FIFO blocks until a writer comes.
    /// </summary>
    static int Copy(LuaCall call)
    {
        var src = call.CheckPath(1);
        var dst = call.CheckPath(2);
        bool allowSpecial = call.Options(3, ["allow_special"]).Flag("allow_special");
        return Run(call, () => Io(src, () =>
        {
            if (Directory.Exists(src)) throw new BuiltinError($"is a directory (only files are copied): \"{src}\"");
            if (!File.Exists(src)) throw new BuiltinError($"no such file or directory: \"{src}\"");
            if (!allowSpecial && IsSpecialFile(src))
                throw new BuiltinError($"not a regular file (a device, FIFO or socket; pass {{allow_special = true}} to copy it anyway): \"{src}\"");
            var target = Directory.Exists(dst) ? Path.Combine(dst, Path.GetFileName(src)) : dst;
            Io(target, () => File.Copy(src, target, overwrite: true));
            return new FileInfo(target).Length;
        }), static (L, n) => { L.PushInteger(n); return 1; });
    }

    static int Rename(LuaCall call)
    {
        var src = call.CheckPath(1);
        var dst = call.CheckPath(2);
        return Run(call, () => Io(src, () =>
        {
            if (Directory.Exists(src) && !IsSymlink(src)) Directory.Move(src, dst);
            else if (File.Exists(src) || IsSymlink(src)) File.Move(src, dst, overwrite: true);
            else throw new BuiltinError($"no such file or directory: \"{src}\"");
        }));
    }

    /// <summary>
    /// fs.remove(path, {recursive = true, force = true}): files, symlinks (never followed) and empty
    /// directories; a non-empty directory needs recursive; force ignores a missing path.
    /// </summary>
    static int Remove(LuaCall call)
    {
        var path = call.CheckPath(1);
        var options = call.Options(2, ["recursive", "force"]);
        bool recursive = options.Flag("recursive"), force = options.Flag("force");
        return Run(call, () => Io(path, () =>
        {
            if (IsSymlink(path)) { File.Delete(path); return; }
            if (Directory.Exists(path))
            {
                if (!recursive && Directory.EnumerateFileSystemEntries(path).Any())
                    throw new BuiltinError($"directory not empty (pass {{recursive = true}} to remove it and its contents): \"{path}\"");
                Directory.Delete(path, recursive);
                return;
            }
            if (File.Exists(path)) { File.Delete(path); return; }
            if (!force) throw new BuiltinError($"no such file or directory: \"{path}\"");
        }));
    }

    /// <summary>fs.tempdir(prefix?) → a new directory with a random name, mode 0700.</summary>
    static int TempDir(LuaCall call)
    {
        var prefix = call.OptString(1, "assay-")!;
        if (prefix.Contains('/') || prefix.Contains('\0')) return call.Fail("prefix must not contain '/'");
        return Run(call, () => Io(Path.GetTempPath(), () =>
        {
            var dir = Directory.CreateTempSubdirectory(prefix);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(dir.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return dir.FullName;
        }), static (L, p) => { L.PushString(p); return 1; });
    }

    /// <summary>
    /// Reads a permission mode at <paramref name="idx"/>: an octal string ("755", "0755", "0o755") or
    /// the integer value. Returns the problem (an error message naming <paramref name="fn"/>) or null.
    /// </summary>
    static string? ParseMode(LuaCall call, int idx, out long mode)
    {
        var L = call.L;
        if (L.TypeOf(idx) == LuaType.String)
        {
            var text = L.ToStringValue(idx)!.Trim();
            var digits = text.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
            mode = 0;
            if (digits.Length is 0 or > 5 || !digits.All(c => c is >= '0' and <= '7'))
                return $"invalid mode \"{text}\" (expected octal digits like \"755\")";
            mode = Convert.ToInt64(digits, 8);
        }
        else if (L.TryGetInteger(idx, out mode))
        {
            var dec = mode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (mode > 511 && dec.All(c => c is >= '0' and <= '7'))
                return $"ambiguous mode {mode}: pass the string \"{mode}\" for octal, or tonumber(\"{mode}\", 8)";
        }
        else
        {
            mode = 0;
            return $"mode must be an octal string like \"755\" or an integer, got {call.TypeName(idx)}";
        }
        if (mode < 0 || mode > 0xFFF) return $"mode out of range (0 to 0o7777), got {mode}";
        return null;
    }

    /// <summary>
    /// fs.chmod(path, mode): mode is an octal string ("755", "0755", "0o755") or the integer value
    /// (tonumber("755", 8) = 493). An integer that reads like octal digits but is above 0o777
    /// (e.g. 755) is refused as ambiguous: it is almost always a forgotten string.
    /// </summary>
    static int Chmod(LuaCall call)
    {
        var path = call.CheckPath(1);
        if (ParseMode(call, 2, out var mode) is { } problem) return call.Fail(problem);
        if (OperatingSystem.IsWindows()) return call.Fail("not supported on Windows");
        return Run(call, () => Io(path, () =>
        {
            if (!File.Exists(path) && !Directory.Exists(path)) throw new BuiltinError($"no such file or directory: \"{path}\"");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)mode);
        }));
    }

    // ------------------------------------------------------------------ glob

    /// <summary>
    /// fs.glob(pattern) → sorted list of matching paths. <c>*</c>, <c>?</c>, <c>[abc]</c>/<c>[!a-z]</c>
    /// within one path segment, <c>**</c> for any number of directories. Wildcards do not match
    /// a leading dot (as in the shell); symlinked directories are not entered by <c>**</c>.
    /// </summary>
    static int Glob(LuaCall call)
    {
        var pattern = call.CheckString(1);
        if (pattern.Length == 0) return call.Fail("pattern must not be empty");
        bool absolute = pattern.StartsWith('/');
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var matchers = new Regex?[segments.Length];
        for (int i = 0; i < segments.Length; i++)
        {
            if (segments[i] == "**" || !HasWildcard(segments[i])) continue;
            matchers[i] = SegmentRegex(segments[i]);
        }
        return Run(call, () =>
        {
            var results = new SortedSet<string>(StringComparer.Ordinal);
            string root = absolute ? "/" : ".";
            string Join(string prefix, string name) => prefix.Length == 0 ? (absolute ? "/" + name : name) : prefix.EndsWith('/') ? prefix + name : prefix + "/" + name;
            string Disk(string rel) => rel.Length == 0 ? root : rel;

            void Walk(string rel, int idx)
            {
                if (idx == segments.Length)
                {
                    if (rel.Length > 0) results.Add(rel);
                    return;
                }
                var seg = segments[idx];
                var disk = Disk(rel);
                if (seg == "**")
                {
                    if (idx == segments.Length - 1)
                    {
                        // trailing **: everything below
                        foreach (var info in Entries(disk))
                        {
                            if (info.Name.StartsWith('.')) continue;
                            var child = Join(rel, info.Name);
                            results.Add(child);
                            if (info is DirectoryInfo && info.LinkTarget == null) Walk(child, idx);
                        }
                        return;
                    }
                    Walk(rel, idx + 1);
                    foreach (var info in Entries(disk))
                        if (info is DirectoryInfo && info.LinkTarget == null && !info.Name.StartsWith('.'))
                            Walk(Join(rel, info.Name), idx);
                    return;
                }
                if (matchers[idx] is not { } re)
                {
                    var child = Join(rel, seg);
                    var childDisk = Disk(child);
                    if (idx == segments.Length - 1 ? File.Exists(childDisk) || Directory.Exists(childDisk) || IsSymlink(childDisk) : Directory.Exists(childDisk))
                        Walk(child, idx + 1);
                    return;
                }
                foreach (var info in Entries(disk))
                {
                    if (info.Name.StartsWith('.') && !seg.StartsWith('.')) continue;
                    if (!re.IsMatch(info.Name)) continue;
                    if (idx == segments.Length - 1) results.Add(Join(rel, info.Name));
                    else if (Directory.Exists(Path.Combine(disk, info.Name))) Walk(Join(rel, info.Name), idx + 1);
                }
            }
            Walk("", 0);
            return results.ToList();
        }, static (L, list) =>
        {
            L.CheckStack(3);
            L.NewTable(list.Count, 0);
            for (int i = 0; i < list.Count; i++)
            {
                L.PushString(list[i]);
                L.RawSetIndex(-2, i + 1);
            }
            return 1;
        });
    }

    static IEnumerable<FileSystemInfo> Entries(string dir)
    {
        try { return Sorted(new DirectoryInfo(dir)).ToList(); }
        catch (DirectoryNotFoundException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    static bool HasWildcard(string seg) => seg.IndexOfAny(['*', '?', '[']) >= 0;

    static Regex SegmentRegex(string seg)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < seg.Length; i++)
        {
            char c = seg[i];
            switch (c)
            {
                case '*': sb.Append("[^/]*"); break;
                case '?': sb.Append("[^/]"); break;
                case '[':
                {
                    int close = seg.IndexOf(']', i + 2 <= seg.Length ? i + 2 : i + 1);
                    if (close < 0) throw new BuiltinError($"invalid pattern: unclosed '[' in \"{seg}\"");
                    var body = seg[(i + 1)..close];
                    bool negate = body.StartsWith('!') || body.StartsWith('^');
                    if (negate) body = body[1..];
                    sb.Append('[').Append(negate ? "^" : "").Append(body.Replace("\\", "\\\\")).Append(']');
                    i = close;
                    break;
                }
                case '\\' when i + 1 < seg.Length:
                    sb.Append(Regex.Escape(seg[++i].ToString()));
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        sb.Append('$');
        try { return new Regex(sb.ToString(), RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new BuiltinError($"invalid pattern \"{seg}\": {e.Message}"); }
    }
}
