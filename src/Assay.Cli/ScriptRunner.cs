using System.Runtime.InteropServices;
using Assay.Lua;
using Assay.Runtime;

namespace Assay.Cli;

/// <summary>Global settings every command shares (-v, --log-format, --memory-limit).</summary>
public sealed record GlobalSettings(bool Verbose, LogFormat LogFormat, long MemoryLimitBytes)
{
    public Logger CreateLogger() => new(Verbose ? LogLevel.Debug : LogLevel.Info, LogFormat);

    public RuntimeOptions CreateRuntimeOptions() => new() { Logger = CreateLogger(), MemoryLimitBytes = MemoryLimitBytes };

    public static long DefaultMemoryLimitMiB =>
        long.TryParse(Environment.GetEnvironmentVariable("ASSAY_MEMORY_LIMIT_MB"), out var mb) && mb > 0 ? mb : 1024;

    /// <summary>Defaults when no flag is given: info logs as text, the memory cap from the environment.</summary>
    public static GlobalSettings FromEnvironment() => new(false, LogFormat.Text, DefaultMemoryLimitMiB * 1024 * 1024);
}

/// <summary>Runs Lua source as the main task of a fresh runtime and maps the outcome to an exit code.</summary>
public static class ScriptRunner
{
    public const int ExitOk = 0, ExitError = 1, ExitUsage = 2, ExitInterrupted = 130;

    public static int RunFile(string path, IReadOnlyList<string> args, GlobalSettings settings)
    {
        byte[] source;
        try
        {
            source = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: cannot read script '{path}': {e.Message}");
            return ExitError;
        }
        return Run(source, "@" + path, path, args, settings);
    }

    /// <summary>`assay -`: the script is read from standard input; `arg[0]` is "-".</summary>
    public static int RunStdin(IReadOnlyList<string> args, GlobalSettings settings)
    {
        var buffer = new MemoryStream();
        using (var stdin = Console.OpenStandardInput()) stdin.CopyTo(buffer);
        return Run(buffer.ToArray(), "=stdin", "-", args, settings);
    }

    public static int RunCode(string code, IReadOnlyList<string> args, GlobalSettings settings) =>
        Run(Encoding.UTF8.GetBytes(code), "=(command line)", "-e", args, settings);

    static int Run(byte[] source, string chunkName, string scriptName, IReadOnlyList<string> args, GlobalSettings settings)
    {
        BlankShebang(source);
        using var runtime = new AssayRuntime(settings.CreateRuntimeOptions());
        SetArgTable(runtime.Vm, scriptName, args);
        int interrupts = 0;
        // A plain SIGINT registration, not Console.CancelKeyPress: that one sets up the terminal
        // first, which costs every cold start for nothing.
        using var onCancel = PosixSignalRegistration.Create(PosixSignal.SIGINT, e =>
        {
            e.Cancel = true;
            // A running server stops gracefully on the first Ctrl-C (http.serve handles it);
            // a second one, or any Ctrl-C in a plain script, interrupts the Lua code at once.
            if (Interlocked.Increment(ref interrupts) == 1 && runtime.Vm.Loop.IsKeptAlive) return;
            runtime.Vm.Interrupt("interrupted");
        });
        // SIGTERM/SIGHUP end a plain script by the default action, which runs no managed code after
        // this handler: kill the commands' process groups first. A running server stops gracefully
        // on SIGTERM instead (its handlers finish; what is left is killed when the runtime ends).
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ =>
        {
            if (!runtime.Vm.Loop.IsKeptAlive) runtime.KillChildProcesses();
        });
        using var onHangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, _ => runtime.KillChildProcesses());
        try
        {
            var main = runtime.Vm.RunMain(source, chunkName, args);
            if (runtime.Vm.IsInterrupted)
            {
                Console.Error.WriteLine($"error: {runtime.Vm.InterruptReason}");
                return ExitInterrupted;
            }
            if (!main.IsFinished) return ExitOk;
            if (!main.Succeeded)
            {
                Console.Error.WriteLine("error: " + Describe(main.ErrorReport, settings));
                if (ErrorHints.For(main.ErrorReport ?? "", Encoding.UTF8.GetString(source)) is { } hint) Console.Error.WriteLine(hint);
                return ExitError;
            }
            return runtime.Vm.Loop.HadUnhandledErrors ? ExitError : ExitOk;
        }
        catch (LuaException e)
        {
            Console.Error.WriteLine("error: " + e.Message); // syntax errors carry file:line
            return ExitError;
        }
    }

    static string Describe(string? report, GlobalSettings settings)
    {
        report = LuaErrors.CleanTraceback(report ?? "unknown error");
        if (report.StartsWith("not enough memory", StringComparison.Ordinal))
            report = $"memory limit exceeded: the Lua heap may use {settings.MemoryLimitBytes / (1024 * 1024)} MiB " +
                     "(raise it with --memory-limit MiB or ASSAY_MEMORY_LIMIT_MB)\n" + report;
        return report;
    }

    /// <summary>A "#!" first line is blanked, not removed, so line numbers stay true.</summary>
    public static void BlankShebang(byte[] source)
    {
        if (source.Length < 2 || source[0] != '#' || source[1] != '!') return;
        for (int i = 0; i < source.Length && source[i] != '\n'; i++) source[i] = (byte)' ';
        source[0] = (byte)'-';
        if (source.Length > 1 && source[1] != '\n') source[1] = (byte)'-';
    }

    /// <summary>The standalone-lua `arg` table: arg[0] is the script, arg[1..n] its arguments.</summary>
    static void SetArgTable(LuaVm vm, string scriptName, IReadOnlyList<string> args)
    {
        var L = vm.Main;
        L.PushGlobalTable();
        L.NewTable(args.Count, 1);
        L.PushString(scriptName);
        L.RawSetIndex(-2, 0);
        for (int i = 0; i < args.Count; i++)
        {
            L.PushString(args[i]);
            L.RawSetIndex(-2, i + 1);
        }
        L.RawSetField(-2, "arg");
        L.Pop(1);
    }
}
