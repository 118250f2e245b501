using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Assay.Lua;

namespace Assay.Runtime.Builtins.Exec;

/// <summary>Options shared by <c>shell.exec</c> and <c>process.run</c>.</summary>
sealed class ExecOptions
{
    public string? Cwd;
    public List<(string Name, string? Value)> Env = [];
    public bool ClearEnv;
    public byte[]? Stdin;
    public double? Timeout;

    static readonly string[] Known = ["cwd", "env", "clear_env", "stdin", "timeout"];

    /// <summary>Reads the options table at <paramref name="arg"/> (nil → defaults). Raises on malformed input.</summary>
    public static ExecOptions Read(LuaCall call, int arg)
    {
        var o = new ExecOptions();
        var L = call.L;
        if (L.IsNoneOrNil(arg)) return o;
        if (L.TypeOf(arg) != LuaType.Table) throw call.ArgError(arg, $"options table expected, got {call.TypeName(arg)}");
        LuaOptions.CheckKeys(call, arg, Known);
        L.CheckStack(4);
        if (L.RawGetField(arg, "cwd") != LuaType.Nil)
        {
            o.Cwd = L.TypeOf(-1) == LuaType.String ? L.ToStringValue(-1)
                : throw new LuaException($"{call.Name}: option 'cwd' must be a string, got {call.TypeName(-1)}");
            if (!Directory.Exists(o.Cwd)) throw new LuaException($"{call.Name}: option 'cwd': no such directory: {o.Cwd}");
        }
        L.Pop(1);
        if (L.RawGetField(arg, "env") != LuaType.Nil)
        {
            if (L.TypeOf(-1) != LuaType.Table) throw new LuaException($"{call.Name}: option 'env' must be a table, got {call.TypeName(-1)}");
            int t = L.AbsIndex(-1);
            L.PushNil();
            while (L.Next(t))
            {
                if (L.TypeOf(-2) != LuaType.String)
                    throw new LuaException($"{call.Name}: option 'env' keys must be strings");
                var name = L.ToStringValue(-2)!;
                if (name.Length == 0 || name.Contains('=') || name.Contains('\0'))
                    throw new LuaException($"{call.Name}: option 'env': invalid variable name '{name}'");
                string? value = L.TypeOf(-1) switch
                {
                    LuaType.String or LuaType.Number => L.ToStringValue(-1),
                    LuaType.Boolean when !L.ToBoolean(-1) => null, // false removes the variable
                    _ => throw new LuaException($"{call.Name}: option 'env': value of '{name}' must be a string, a number or false"),
                };
                if (value != null && value.Contains('\0'))
                    throw new LuaException($"{call.Name}: option 'env': value of '{name}' contains a NUL byte");
                o.Env.Add((name, value));
                L.Pop(1);
            }
        }
        L.Pop(1);
        if (L.RawGetField(arg, "clear_env") != LuaType.Nil)
        {
            if (L.TypeOf(-1) != LuaType.Boolean) throw new LuaException($"{call.Name}: option 'clear_env' must be a boolean");
            o.ClearEnv = L.ToBoolean(-1);
        }
        L.Pop(1);
        if (L.RawGetField(arg, "stdin") != LuaType.Nil)
        {
            if (L.TypeOf(-1) is not (LuaType.String or LuaType.Number))
                throw new LuaException($"{call.Name}: option 'stdin' must be a string, got {call.TypeName(-1)}");
            o.Stdin = L.TypeOf(-1) == LuaType.String ? L.ToBytes(-1).ToArray() : System.Text.Encoding.UTF8.GetBytes(L.ToStringValue(-1)!);
        }
        L.Pop(1);
        if (L.RawGetField(arg, "timeout") != LuaType.Nil)
        {
            double t = L.TypeOf(-1) == LuaType.Number ? L.ToNumber(-1) : double.NaN;
            if (double.IsNaN(t) || double.IsInfinity(t) || t < 0 || t > 24 * 24 * 3600)
                throw new LuaException($"{call.Name}: option 'timeout' must be a finite number of seconds >= 0");
            o.Timeout = t;
        }
        L.Pop(1);
        return o;
    }
}

sealed record ExecResult(int Status, byte[] Stdout, byte[] Stderr, bool TimedOut)
{
    public int Push(LuaState L)
    {
        L.CheckStack(4);
        L.NewTable(0, 4);
        L.PushInteger(Status);
        L.RawSetField(-2, "status");
        L.PushBytes(Stdout);
        L.RawSetField(-2, "stdout");
        L.PushBytes(Stderr);
        L.RawSetField(-2, "stderr");
        L.PushBoolean(TimedOut);
        L.RawSetField(-2, "timed_out");
        return 1;
    }
}

/// <summary>
/// Runs one child process to completion off the loop thread: stdin is fed while stdout and
/// stderr are drained concurrently (no deadlock on large input and output), and a timeout or
/// cancellation kills the whole tree — the descendants found through /proc, plus every process
/// that still carries this run's environment tag (background jobs whose parent already exited).
/// Partial output is kept.
/// </summary>
static class ChildProcess
{
    /// <summary>Environment variable that tags every descendant of one run (see the class notes).</summary>
    public const string TagVariable = "ASSAY_EXEC_TAG";

    /// <summary>How long output from background processes is still collected after the child exits.</summary>
    static readonly TimeSpan DrainAfterExit = TimeSpan.FromMilliseconds(500);

    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args, ExecOptions o)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = o.Cwd ?? "",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (o.ClearEnv) psi.Environment.Clear();
        foreach (var (name, value) in o.Env)
            if (value == null) psi.Environment.Remove(name); else psi.Environment[name] = value;
        return psi;
    }

    public static async Task<ExecResult> RunAsync(string what, ProcessStartInfo psi, ExecOptions o, CancellationToken cancel)
    {
        var tag = Guid.NewGuid().ToString("N");
        psi.Environment[TagVariable] = tag;
        using var p = new Process { StartInfo = psi };
        try
        {
            if (!p.Start()) throw new InvalidOperationException("process did not start");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"failed to start {what}: {e.Message}");
        }
        var stdout = new Collector();
        var stderr = new Collector();
        var outTask = stdout.PumpAsync(p.StandardOutput.BaseStream);
        var errTask = stderr.PumpAsync(p.StandardError.BaseStream);
        _ = FeedAsync(p.StandardInput.BaseStream, o.Stdin);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (o.Timeout is { } t) deadline.CancelAfter(TimeSpan.FromSeconds(t));
        bool stopped = false;
        try
        {
            await p.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            // Exited: collect what is left in the pipes. Background jobs may hold them open.
            var drained = Task.WhenAll(outTask, errTask);
            var grace = Task.Delay(DrainAfterExit, deadline.Token);
            await Task.WhenAny(drained, grace).ConfigureAwait(false);
            if (!drained.IsCompleted && deadline.IsCancellationRequested) stopped = true;
        }
        catch (OperationCanceledException)
        {
            stopped = true;
        }
        if (stopped)
        {
            KillTree(p, tag);
            // The killed processes close their pipe ends; take what arrived, do not wait for stragglers.
            await Task.WhenAny(Task.WhenAll(outTask, errTask), Task.Delay(200, CancellationToken.None)).ConfigureAwait(false);
            cancel.ThrowIfCancellationRequested();
            return new ExecResult(-1, stdout.Snapshot(), stderr.Snapshot(), true);
        }
        return new ExecResult(p.ExitCode, stdout.Snapshot(), stderr.Snapshot(), false);
    }

    static async Task FeedAsync(Stream stdin, byte[]? data)
    {
        try
        {
            if (data is { Length: > 0 }) await stdin.WriteAsync(data).ConfigureAwait(false);
        }
        catch (IOException) { /* the child closed its stdin early: not an error */ }
        catch (ObjectDisposedException) { }
        finally
        {
            try { stdin.Dispose(); } catch (IOException) { }
        }
    }

    static void KillTree(Process p, string tag)
    {
        try { p.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already exited */ }
        catch (Win32Exception) { }
        foreach (var pid in TaggedProcesses(tag))
            Native.Kill(pid, 9);
    }

    /// <summary>Processes of ours whose environment carries <paramref name="tag"/>.</summary>
    static List<int> TaggedProcesses(string tag)
    {
        var found = new List<int>();
        var needle = System.Text.Encoding.ASCII.GetBytes($"{TagVariable}={tag}\0");
        int self = Environment.ProcessId;
        string[] dirs;
        try { dirs = Directory.GetDirectories("/proc"); } catch (IOException) { return found; }
        foreach (var dir in dirs)
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == self) continue;
            try
            {
                var env = File.ReadAllBytes(Path.Combine(dir, "environ"));
                if (env.AsSpan().IndexOf(needle) >= 0) found.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>Accumulates a stream; a snapshot can be taken while the pump is still running.</summary>
    sealed class Collector
    {
        readonly MemoryStream _buffer = new();

        public async Task PumpAsync(Stream stream)
        {
            var chunk = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    int n = await stream.ReadAsync(chunk).ConfigureAwait(false);
                    if (n == 0) break;
                    lock (_buffer) _buffer.Write(chunk, 0, n);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        }

        public byte[] Snapshot()
        {
            lock (_buffer) return _buffer.ToArray();
        }
    }
}
