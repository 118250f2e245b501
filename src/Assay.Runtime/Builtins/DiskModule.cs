using Assay.Runtime.Builtins.Exec;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>disk.usage(path)</c>, <c>disk.sweep(dir, age_secs)</c>, <c>disk.dir_size(path)</c>. All
/// run off the loop thread. Symbolic links are never followed. Reference page: docs/modules/disk.md.
/// </summary>
public static class DiskModule
{
    public static void Register(AssayRuntime rt) =>
        rt.Vm.RegisterModule("disk", ("usage", Usage), ("sweep", Sweep), ("dir_size", DirSize));

    sealed record UsageInfo(ulong Total, ulong Free, ulong Available, ulong Used, double Percent);

    static int Usage(LuaCall call)
    {
        var path = call.CheckPath(1);
        var task = Task.Run(() =>
        {
            int errno = Native.StatFs(path, out var s);
            if (errno != 0) throw new IOException($"failed to stat {path}: {Native.ErrorText(errno)}");
            ulong unit = s.FragmentSize != 0 ? s.FragmentSize : s.BlockSize;
            ulong total = s.Blocks * unit, free = s.BlocksFree * unit, avail = s.BlocksAvailable * unit;
            ulong used = total - free;
            // Like df: the share of the space usable by ordinary users that is taken.
            double percent = used + avail == 0 ? 0 : 100.0 * used / (used + avail);
            return new UsageInfo(total, free, avail, used, percent);
        });
        return call.Await(task, static (L, u) =>
        {
            L.CheckStack(3);
            L.NewTable(0, 5);
            L.PushInteger((long)u.Total); L.RawSetField(-2, "total");
            L.PushInteger((long)u.Free); L.RawSetField(-2, "free");
            L.PushInteger((long)u.Available); L.RawSetField(-2, "available");
            L.PushInteger((long)u.Used); L.RawSetField(-2, "used");
            L.PushNumber(u.Percent); L.RawSetField(-2, "percent");
            return 1;
        });
    }

    static int Sweep(LuaCall call)
    {
        var dir = call.CheckPath(1);
        call.CheckType(2, LuaType.Number, "age in seconds");
        double age = call.L.ToNumber(2);
        if (double.IsNaN(age) || double.IsInfinity(age) || age < 0)
            return call.Fail("age must be a finite number of seconds >= 0");
        var task = Task.Run(() =>
        {
            var info = new DirectoryInfo(dir);
            if (!info.Exists) throw new DirectoryNotFoundException($"no such directory: {dir}");
            var cutoff = DateTime.UtcNow - TimeSpan.FromSeconds(age);
            long removed = 0;
            foreach (var entry in info.EnumerateFileSystemInfos())
            {
                try
                {
                    if (entry.LastWriteTimeUtc >= cutoff) continue;
                    if (entry is DirectoryInfo d && d.LinkTarget == null) d.Delete(recursive: true);
                    else entry.Delete(); // files and symbolic links (never their targets)
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"cannot remove {entry.FullName}: {e.Message}");
                }
            }
            return removed;
        });
        return call.Await(task, static (L, n) => { L.PushInteger(n); return 1; });
    }

    static int DirSize(LuaCall call)
    {
        var path = call.CheckPath(1);
        var task = Task.Run(() =>
        {
            var root = new DirectoryInfo(path);
            if (!root.Exists)
            {
                if (File.Exists(path)) return new FileInfo(path).Length;
                throw new DirectoryNotFoundException($"no such directory: {path}");
            }
            long total = 0;
            var options = new EnumerationOptions
            {
                RecurseSubdirectories = true,
                IgnoreInaccessible = true,
                AttributesToSkip = FileAttributes.ReparsePoint, // do not follow or count symbolic links
            };
            foreach (var f in root.EnumerateFiles("*", options)) total += f.Length;
            return total;
        });
        return call.Await(task, static (L, n) => { L.PushInteger(n); return 1; });
    }
}
