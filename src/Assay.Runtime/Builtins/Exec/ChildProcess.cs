using System.Diagnostics;
using System.Collections.Concurrent;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Assay.Runtime.Builtins.Exec;

/// <summary>Options shared by <c>shell.exec</c> and <c>process.run</c>.</summary>
sealed class ExecOptions
{
    public string? Cwd;
    public List<(string Name, string? Value)> Env = [];
    public bool ClearEnv;
    public byte[]? Stdin;
    public double? Timeout;

    /// <summary>Reads the options table at <paramref name="arg"/> (nil → defaults). Raises on malformed input.</summary>
    public static ExecOptions Read(LuaCall call, int arg)
    {
        var o = new ExecOptions();
        var options = call.Options(arg, ["cwd", "env", "clear_env", "stdin", "timeout"]);
        if (!options.Given) return o;
        o.Cwd = options.String("cwd");
        if (o.Cwd != null && !Directory.Exists(o.Cwd)) throw new BuiltinError($"option 'cwd': no such directory: {o.Cwd}");
        var L = call.L;
        var envType = options.Push("env");
        if (envType != LuaType.Nil)
        {
            if (envType != LuaType.Table) throw new BuiltinError($"option 'env' must be a table, got {call.TypeName(-1)}");
            ReadEnv(L, L.AbsIndex(-1), o.Env);
        }
        L.Pop(1);
        o.ClearEnv = options.Boolean("clear_env") ?? false;
        var stdinType = options.Push("stdin");
        if (stdinType != LuaType.Nil)
        {
            if (stdinType is not (LuaType.String or LuaType.Number))
                throw new BuiltinError($"option 'stdin' must be a string, got {call.TypeName(-1)}");
            o.Stdin = stdinType == LuaType.String ? L.ToBytes(-1).ToArray() : System.Text.Encoding.UTF8.GetBytes(L.ToStringValue(-1)!);
        }
        L.Pop(1);
        o.Timeout = options.Seconds("timeout");
        return o;
    }

    /// <summary>env = {NAME = value}: a string or number sets the variable, false removes it.</summary>
    static void ReadEnv(LuaState L, int table, List<(string Name, string? Value)> env)
    {
        L.CheckStack(3);
        L.PushNil();
        while (L.Next(table))
        {
            if (L.TypeOf(-2) != LuaType.String) throw new BuiltinError("option 'env' keys must be strings");
            var name = L.ToStringValue(-2)!;
            if (name.Length == 0 || name.Contains('=') || name.Contains('\0'))
                throw new BuiltinError($"option 'env': invalid variable name '{name}'");
            string? value = L.TypeOf(-1) switch
            {
                LuaType.String or LuaType.Number => L.ToStringValue(-1),
                LuaType.Boolean when !L.ToBoolean(-1) => null, // false removes the variable
                _ => throw new BuiltinError($"option 'env': value of '{name}' must be a string, a number or false"),
            };
            if (value != null && value.Contains('\0'))
                throw new BuiltinError($"option 'env': value of '{name}' contains a NUL byte");
            env.Add((name, value));
            L.Pop(1);
        }
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
/// <summary>
/// Runs one child process to completion off the loop thread: stdin is fed while stdout and
/// stderr are drained concurrently (no deadlock on large input and output). The child leads its
/// own process group (<see cref="PosixSpawn"/>), so a timeout, a cancellation (Ctrl-C,
/// --timeout) or the end of the runtime (os.exit, an uncaught error, SIGTERM) kills the whole
/// group with one kill(2) — background jobs whose parent already exited included. Partial output
/// is kept. Exits are reaped on SIGCHLD by pid (no thread blocks per child).
/// </summary>
static class ChildProcess
{
    /// <summary>How long output from background processes is still collected after the child exits.</summary>
    static readonly TimeSpan DrainAfterExit = TimeSpan.FromMilliseconds(500);

    /// <summary>Children not reaped yet → their exit status, set by <see cref="Reap"/>.</summary>
    static readonly ConcurrentDictionary<int, TaskCompletionSource<int>> Exits = new();

    /// <summary>Process groups of commands still running → the runtime (LuaVm) that started them.</summary>
    static readonly ConcurrentDictionary<int, object> Groups = new();

    static readonly PosixSignalRegistration OnChildExit = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => ReapAll());

    static ChildProcess()
    {
        // os.exit (Environment.Exit), the end of Main and SIGTERM all raise ProcessExit.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillGroups(null);
    }

    /// <summary>Kills the groups of every command still running for <paramref name="owner"/> (null: all).</summary>
    public static void KillGroups(object? owner)
    {
        foreach (var (pgid, who) in Groups)
            if (owner == null || ReferenceEquals(who, owner)) Native.Kill(-pgid, 9);
    }

    /// <summary>
    /// The program to execute: a name with a '/' is used as is (relative to <c>cwd</c>, as a shell
    /// would after cd), a bare name is looked up in PATH (never in the current directory).
    /// </summary>
    public static string ResolveProgram(string name)
    {
        if (name.Contains('/')) return name;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            if (dir.Length == 0) continue;
            var candidate = Path.Join(dir, name);
            try
            {
                if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
                    return candidate;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return name; // posix_spawn reports ENOENT: "No such file or directory"
    }

    static List<string> Environ(ExecOptions o)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!o.ClearEnv)
            foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
                env[(string)e.Key] = (string?)e.Value ?? "";
        foreach (var (name, value) in o.Env)
            if (value == null) env.Remove(name); else env[name] = value;
        return env.Select(kv => kv.Key + "=" + kv.Value).ToList();
    }

    /// <summary>Runs <paramref name="argv"/> (argv[0] is the program); <paramref name="owner"/> is the runtime whose end kills it.</summary>
    public static async Task<ExecResult> RunAsync(string what, IReadOnlyList<string> argv, ExecOptions o, object owner, CancellationToken cancel)
    {
        var (pid, stdin, stdoutStream, stderrStream) = Start(what, argv, o);
        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Exits[pid] = exited;
        Groups[pid] = owner;
        Reap(pid); // it may have ended before it was registered
        // Synchronous, so the kill happens even when the process is about to exit (Ctrl-C).
        using var onCancel = cancel.Register(() => Native.Kill(-pid, 9));
        try
        {
            var stdout = new Collector();
            var stderr = new Collector();
            var outTask = stdout.PumpAsync(stdoutStream);
            var errTask = stderr.PumpAsync(stderrStream);
            _ = FeedAsync(stdin, o.Stdin);

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var started = Stopwatch.GetTimestamp();
            var timeout = o.Timeout is { } t ? TimeSpan.FromSeconds(t) : TimeSpan.MaxValue;
            if (o.Timeout is not null) deadline.CancelAfter(timeout);
            // The clock decides whether the timeout has passed, not the timer: on a loaded machine the timer's
            // callback can run long after it was due (a 0.3 s timeout was seen not cancelled after 0.9 s).
            TimeSpan Left() => timeout - Stopwatch.GetElapsedTime(started); // no timeout: TimeSpan.MaxValue, never cut
            bool stopped = false;
            int status = -1;
            try
            {
                status = await exited.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
                // Exited: collect what is left in the pipes. Background jobs may hold them open.
                var drained = Task.WhenAll(outTask, errTask);
                var left = Left();
                var cutByTimeout = left < DrainAfterExit; // then the drain ends at the timeout, and what still runs is killed
                if (left > TimeSpan.Zero)
                    await Task.WhenAny(drained, Task.Delay(cutByTimeout ? left : DrainAfterExit, deadline.Token)).ConfigureAwait(false);
                if (!drained.IsCompleted && (cutByTimeout || deadline.IsCancellationRequested)) stopped = true;
            }
            catch (OperationCanceledException)
            {
                stopped = true;
            }
            if (stopped)
            {
                Native.Kill(-pid, 9);
                // The killed processes close their pipe ends; take what arrived, do not wait for stragglers.
                await Task.WhenAny(Task.WhenAll(outTask, errTask), Task.Delay(200, CancellationToken.None)).ConfigureAwait(false);
                cancel.ThrowIfCancellationRequested();
                return new ExecResult(-1, stdout.Snapshot(), stderr.Snapshot(), true);
            }
            return new ExecResult(status, stdout.Snapshot(), stderr.Snapshot(), false);
        }
        finally
        {
            // Background jobs of a command that ended normally keep running (documented); from here
            // on they are not ours to kill, and the group id may be reused once they are gone.
            Groups.TryRemove(pid, out _);
            stdoutStream.Dispose();
            stderrStream.Dispose();
        }
    }

    /// <summary>Spawns the child with three pipes; the parent keeps its ends as async pipe streams.</summary>
    static (int Pid, Stream Stdin, Stream Stdout, Stream Stderr) Start(string what, IReadOnlyList<string> argv, ExecOptions o)
    {
        var program = ResolveProgram(argv[0]);
        var env = Environ(o);
        var fds = new List<int>(6);
        try
        {
            var (inR, inW) = PosixSpawn.Pipe(); fds.Add(inR); fds.Add(inW);
            var (outR, outW) = PosixSpawn.Pipe(); fds.Add(outR); fds.Add(outW);
            var (errR, errW) = PosixSpawn.Pipe(); fds.Add(errR); fds.Add(errW);
            int pid = PosixSpawn.Spawn(program, argv, env, o.Cwd, inR, outW, errW);
            foreach (var fd in new[] { inR, outW, errW }) PosixSpawn.Close(fd);
            fds.Clear();
            return (pid, PipeOf(inW, PipeDirection.Out), PipeOf(outR, PipeDirection.In), PipeOf(errR, PipeDirection.In));
        }
        catch (IOException e)
        {
            foreach (var fd in fds) PosixSpawn.Close(fd);
            throw new InvalidOperationException($"failed to start {what}: {e.Message}");
        }
    }

    // Pipe streams do their async I/O through the socket engine (epoll): no thread per pipe.
    static Stream PipeOf(int fd, PipeDirection direction) =>
        new AnonymousPipeClientStream(direction, new SafePipeHandle(fd, ownsHandle: true));

    /// <summary>SIGCHLD: reaps every child of ours that has ended (signals coalesce, so all are checked).</summary>
    static void ReapAll()
    {
        foreach (var pid in Exits.Keys) Reap(pid);
    }

    static void Reap(int pid)
    {
        if (PosixSpawn.TryReap(pid) is int status && Exits.TryRemove(pid, out var tcs)) tcs.TrySetResult(status);
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
