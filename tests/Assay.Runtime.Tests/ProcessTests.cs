using System.Diagnostics;

namespace Assay.Runtime.Tests;

/// <summary>process.list / is_running / kill / wait_idle and the disk module.</summary>
public class ProcessTests
{
    /// <summary>Starts `sleep` under a program name longer than the kernel's 15-byte comm.</summary>
    static (Process Proc, string Name, string Dir) StartLongNamed(string seconds)
    {
        var dir = Directory.CreateTempSubdirectory("assay-proc").FullName;
        var name = "assay-long-process-name-" + Guid.NewGuid().ToString("N")[..6];
        var path = Path.Combine(dir, name);
        File.Copy("/bin/sleep", path);
        var p = Process.Start(new ProcessStartInfo(path, seconds))!;
        return (p, name, dir);
    }

    [Fact]
    public void ListAndIsRunningSeeFullNames()
    {
        var (p, name, dir) = StartLongNamed("30");
        try
        {
            using var h = new LuaHarness();
            h.Ok($$"""
                local found
                for _, e in ipairs(process.list()) do if e.pid == {{p.Id}} then found = e end end
                name, comm, cmd = found.name, found.comm, found.cmdline
                self_listed = false
                for _, e in ipairs(process.list()) do if e.pid == {{Environment.ProcessId}} then self_listed = true end end
                running = process.is_running("{{name}}")
                by_comm = process.is_running("{{name[..15]}}")
                other = process.is_running("no-such-process-xyz")
                """);
            Assert.Equal(name, h.Eval("name"));
            Assert.Equal(name[..15], h.Eval("comm"));
            Assert.EndsWith(name + " 30", h.Eval("cmd"));
            Assert.Equal("true", h.Eval("self_listed"));
            Assert.Equal("true", h.Eval("running"));
            Assert.Equal("true", h.Eval("by_comm"));
            Assert.Equal("false", h.Eval("other"));
        }
        finally { p.Kill(); p.WaitForExit(); Directory.Delete(dir, true); }
    }

    [Fact]
    public void KillAcceptsNamesAndNumbersAndWaitIdleSeesTheExit()
    {
        var (p, name, dir) = StartLongNamed("30");
        var (q, name2, dir2) = StartLongNamed("30");
        try
        {
            using var h = new LuaHarness();
            h.Ok($$"""
                probe = process.kill({{p.Id}}, 0)
                before = process.wait_idle("{{name}}", 0.2, 0.05)
                sent = process.kill({{p.Id}}, "SIGTERM")
                sent2 = process.kill({{q.Id}}, "kill")
                after = process.wait_idle({"{{name}}", "{{name2}}"}, 5, 0.05)
                """);
            Assert.Equal("true", h.Eval("probe"));
            Assert.Equal("false", h.Eval("before"));
            Assert.Equal("true", h.Eval("sent"));
            Assert.Equal("true", h.Eval("sent2"));
            Assert.True(p.WaitForExit(5000));
            Assert.Equal(143, p.ExitCode);
            Assert.True(q.WaitForExit(5000));
            Assert.Equal(137, q.ExitCode);
            Assert.Equal("true", h.Eval("after"));
            // a process that is gone raises, so pcall(process.kill, pid, 0) is a liveness probe
            h.Ok($"gone, goneErr = pcall(process.kill, {p.Id}, 0)");
            Assert.Equal("false", h.Eval("gone"));
            Assert.Contains($"process.kill: no such process (pid {p.Id})", h.Eval("goneErr"));
        }
        finally
        {
            if (!p.HasExited) p.Kill();
            if (!q.HasExited) q.Kill();
            Directory.Delete(dir, true);
            Directory.Delete(dir2, true);
        }
    }

    [Theory]
    [InlineData("process.kill(0)", "process.kill: pid must be > 0")]
    [InlineData("process.kill(-5)", "process.kill: pid must be > 0")]
    [InlineData("process.kill('x')", "bad argument #1 to 'process.kill' (pid expected, got string)")]
    [InlineData("process.kill(1.5)", "bad argument #1 to 'process.kill' (pid must be an integer)")]
    [InlineData("process.kill(1, 'BOGUS')", "process.kill: unknown signal 'BOGUS'")]
    [InlineData("process.kill(1, 99)", "process.kill: signal must be an integer from 0 to 64")]
    [InlineData("process.kill(1, {})", "bad argument #2 to 'process.kill'")]
    [InlineData("process.is_running(5)", "bad argument #1 to 'process.is_running' (string expected, got number)")]
    [InlineData("process.wait_idle(5)", "process.wait_idle: names must be a string or an array of strings")]
    [InlineData("process.wait_idle('x', -1)", "process.wait_idle: timeout must be")]
    [InlineData("process.wait_idle('x', 1, 0)", "process.wait_idle: interval must be")]
    [InlineData("disk.usage(nil)", "bad argument #1 to 'disk.usage' (path expected, got nil)")]
    [InlineData("disk.usage('/no/such/path')", "disk.usage: failed to stat /no/such/path")]
    [InlineData("disk.sweep('/tmp')", "bad argument #2 to 'disk.sweep' (age in seconds expected, got no value)")]
    [InlineData("disk.sweep('/tmp', -1)", "disk.sweep: age must be")]
    [InlineData("disk.sweep('/no/such/dir', 1)", "disk.sweep: no such directory: /no/such/dir")]
    [InlineData("disk.dir_size('/no/such/dir')", "disk.dir_size: no such directory: /no/such/dir")]
    public void MalformedInputRaisesNamedErrors(string code, string expected) =>
        Assert.Contains(expected, LuaHarness.Fails(code));

    [Fact]
    public void DiskUsageMatchesStatfs()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local u = disk.usage("/")
            ok = u.total > 0 and u.free <= u.total and u.used == u.total - u.free
              and u.available <= u.free and u.percent >= 0 and u.percent <= 100
              and math.type(u.total) == "integer"
            total = u.total
            """);
        Assert.Equal("true", h.Eval("ok"));
        var drive = new DriveInfo("/");
        Assert.Equal(drive.TotalSize.ToString(), h.Eval("total"));
    }

    [Fact]
    public void DirSizeAndSweep()
    {
        var dir = Directory.CreateTempSubdirectory("assay-disk").FullName;
        var outside = Directory.CreateTempSubdirectory("assay-disk-target").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "a.bin"), new byte[1000]);
            Directory.CreateDirectory(Path.Combine(dir, "sub/deeper"));
            File.WriteAllBytes(Path.Combine(dir, "sub/deeper/b.bin"), new byte[234]);
            File.WriteAllBytes(Path.Combine(outside, "big.bin"), new byte[5000]);
            File.CreateSymbolicLink(Path.Combine(dir, "link"), outside); // not followed
            File.WriteAllBytes(Path.Combine(dir, "fresh.txt"), new byte[10]);
            var old = DateTime.UtcNow.AddHours(-2);
            File.SetLastWriteTimeUtc(Path.Combine(dir, "a.bin"), old);
            Directory.SetLastWriteTimeUtc(Path.Combine(dir, "sub"), old);
            File.SetLastWriteTimeUtc(Path.Combine(dir, "fresh.txt"), DateTime.UtcNow);
            using var h = new LuaHarness();
            h.Ok($$"""
                size = disk.dir_size("{{dir}}")
                removed = disk.sweep("{{dir}}", 3600)
                size_after = disk.dir_size("{{dir}}")
                """);
            Assert.Equal("1244", h.Eval("size"));
            Assert.Equal("2", h.Eval("removed"));
            Assert.Equal("10", h.Eval("size_after"));
            Assert.True(File.Exists(Path.Combine(dir, "fresh.txt")));
            Assert.False(Directory.Exists(Path.Combine(dir, "sub")));
            Assert.True(File.Exists(Path.Combine(outside, "big.bin"))); // the link's target is untouched
        }
        finally
        {
            Directory.Delete(dir, true);
            Directory.Delete(outside, true);
        }
    }
}
