using System.Diagnostics;

namespace Assay.Runtime.Tests;

/// <summary>shell.exec and process.run: results, options, timeouts, concurrency, errors.</summary>
public class ShellTests
{
    [Fact]
    public void ExecReturnsStatusAndOutput()
    {
        using var h = new LuaHarness();
        h.Ok("""
            r = shell.exec("echo hello; echo oops >&2; exit 3")
            out, err, st, to = r.stdout, r.stderr, r.status, r.timed_out
            """);
        Assert.Equal("hello\n", h.Eval("out"));
        Assert.Equal("oops\n", h.Eval("err"));
        Assert.Equal("3", h.Eval("st"));
        Assert.Equal("false", h.Eval("to"));
    }

    [Fact]
    public void ExecOptionsCwdEnvStdin()
    {
        using var h = new LuaHarness();
        var dir = Directory.CreateTempSubdirectory("assay-shell").FullName;
        try
        {
            h.Ok($$$"""
                env.set("ASSAY_SHELL_INHERITED", "yes")
                cwd = shell.exec("pwd", {cwd = "{{{dir}}}"}).stdout
                envs = shell.exec('printf "%s|%s|%s" "$FOO" "$ASSAY_SHELL_INHERITED" "${HOME-unset}"',
                  {env = {FOO = "bar baz", HOME = false}}).stdout
                cleared = shell.exec('printf "%s|%s" "${ASSAY_SHELL_INHERITED-none}" "$ONLY"',
                  {clear_env = true, env = {ONLY = 1}}).stdout
                piped = shell.exec("tr a-z A-Z", {stdin = "abc\0def"}).stdout
                nostdin = shell.exec("cat").stdout
                """);
            Assert.Equal(dir + "\n", h.Eval("cwd"));
            Assert.Equal("bar baz|yes|unset", h.Eval("envs"));
            Assert.Equal("none|1", h.Eval("cleared"));
            Assert.Equal("ABC\0DEF", h.Eval("piped"));
            Assert.Equal("", h.Eval("nostdin"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TimeoutKillsTheTreeIncludingBackgroundJobs()
    {
        using var h = new LuaHarness();
        var sw = Stopwatch.StartNew();
        h.Ok("""
            local r = shell.exec("echo started; (sleep 5; echo late) & sleep 10", {timeout = 0.5})
            timed_out, status, out = r.timed_out, r.status, r.stdout
            """);
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.4, 2.0);
        Assert.Equal("true", h.Eval("timed_out"));
        Assert.Equal("-1", h.Eval("status"));
        Assert.Equal("started\n", h.Eval("out")); // partial output kept
        // the background job really died: "late" never shows up and no tagged process survives
        Thread.Sleep(100);
        Assert.DoesNotContain(Process.GetProcesses(), p => SafeCommandLine(p).Contains("sleep 5; echo late"));
    }

    [Fact]
    public void OrphanedBackgroundJobDoesNotHangTheCallAndIsKilledOnTimeout()
    {
        using var h = new LuaHarness();
        var sw = Stopwatch.StartNew();
        // sh exits at once; the orphan keeps the pipes open. Without a timeout the call returns
        // shortly after sh exits; with one, the orphan is found by its tag and killed.
        h.Ok("""
            local r = shell.exec("sleep 7.25 & echo bye")
            quick = r.stdout
            local r2 = shell.exec("sleep 7.5 & echo bye", {timeout = 0.3})
            timed = r2.timed_out
            """);
        Assert.InRange(sw.Elapsed.TotalSeconds, 0.0, 3.0);
        Assert.Equal("bye\n", h.Eval("quick"));
        Assert.Equal("true", h.Eval("timed"));
        Thread.Sleep(200);
        Assert.DoesNotContain(Process.GetProcesses(), p => SafeCommandLine(p) == "sleep 7.5");
        foreach (var p in Process.GetProcesses().Where(p => SafeCommandLine(p) == "sleep 7.25")) p.Kill();
    }

    static string SafeCommandLine(Process p)
    {
        try { return File.ReadAllText($"/proc/{p.Id}/cmdline").Replace('\0', ' ').Trim(); }
        catch (Exception) { return ""; }
    }

    [Fact]
    public void LargeStdinAndStdoutDoNotDeadlock()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local big = string.rep("0123456789abcdef", 1024 * 1024) -- 16 MiB through cat
            local r = shell.exec("cat; cat /dev/null >&2", {stdin = big, timeout = 60})
            same = r.stdout == big
            len = #r.stdout
            """);
        Assert.Equal("true", h.Eval("same"));
        Assert.Equal((16 * 1024 * 1024).ToString(), h.Eval("len"));
    }

    [Fact]
    public void OtherCoroutinesKeepRunningDuringAnExec()
    {
        using var h = new LuaHarness();
        h.Ok("""
            ticks = 0
            local ticker = async.spawn(function()
              for i = 1, 100 do sleep(0.1); ticks = ticks + 1; if done then return end end
            end)
            local r = shell.exec("sleep 2; echo done")
            done = true
            ticker:await()
            ok = r.stdout == "done\n"
            """);
        Assert.Equal("true", h.Eval("ok"));
        // a blocked loop would show 0 or 1 ticks; under test-parallel load the timer runs late, so the floor is low
        Assert.InRange(int.Parse(h.Eval("ticks")!), 5, 25);
    }

    [Fact]
    public void ProcessRunPassesArgvVerbatim()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local r = process.run({"printf", "%s", "a; echo x"})
            out, st = r.stdout, r.status
            local r2 = process.run({"sh", "-c", 'printf "[%s]" "$@"', "sh", "$HOME", "two words", "", "*"})
            args = r2.stdout
            local r3 = process.run({"sh", "-c", "cat; exit 4"}, {stdin = "in", env = {X = "1"}})
            st3, out3 = r3.status, r3.stdout
            local r4 = process.run({"sleep", "5"}, {timeout = 0.2})
            to4 = r4.timed_out
            """);
        Assert.Equal("a; echo x", h.Eval("out"));
        Assert.Equal("0", h.Eval("st"));
        Assert.Equal("[$HOME][two words][][*]", h.Eval("args"));
        Assert.Equal("4", h.Eval("st3"));
        Assert.Equal("in", h.Eval("out3"));
        Assert.Equal("true", h.Eval("to4"));
    }

    [Theory]
    [InlineData("shell.exec(42)", "bad argument #1 to 'shell.exec' (string expected, got number)")]
    [InlineData("shell.exec('true', 5)", "bad argument #2 to 'shell.exec' (options table expected, got number)")]
    [InlineData("shell.exec('true', {timeout = -1})", "shell.exec: option 'timeout' must be a finite number of seconds >= 0")]
    [InlineData("shell.exec('true', {timeout = 0/0})", "shell.exec: option 'timeout' must be")]
    [InlineData("shell.exec('true', {tmeout = 1})", "shell.exec: unknown option 'tmeout'")]
    [InlineData("shell.exec('true', {cwd = '/no/such/dir'})", "shell.exec: option 'cwd': no such directory: /no/such/dir")]
    [InlineData("shell.exec('true', {env = {A = {}}})", "shell.exec: option 'env': value of 'A' must be")]
    [InlineData("shell.exec('true', {env = {['A=B'] = 'x'}})", "shell.exec: option 'env': invalid variable name 'A=B'")]
    [InlineData("shell.exec('true', {stdin = true})", "shell.exec: option 'stdin' must be a string, got boolean")]
    [InlineData("process.run('ls')", "bad argument #1 to 'process.run' (argv table expected, got string)")]
    [InlineData("process.run({})", "process.run: argv is empty")]
    [InlineData("process.run({'ls', {}})", "process.run: argv[2] must be a string, got table")]
    [InlineData("process.run({'/no/such/program-xyz'})", "process.run: failed to start '/no/such/program-xyz'")]
    public void MalformedInputRaisesNamedErrors(string code, string expected) =>
        Assert.Contains(expected, LuaHarness.Fails(code));

    [Fact]
    public void ErrorsCanBeCaughtWithPcall()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local ok, err = pcall(process.run, {"/no/such/program-xyz"})
            caught = (not ok) and err:find("failed to start", 1, true) ~= nil
            """);
        Assert.Equal("true", h.Eval("caught"));
    }
}
