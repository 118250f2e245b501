using System.Diagnostics;

namespace Assay.Cli.Commands;

/// <summary>
/// `assay test [paths…]`: runs every *_test.lua / *.test.lua file, each in its own `assay`
/// process (a test that crashes, exits or leaks globals cannot affect another), and prints
/// `N passed, N failed`. Exit 1 when any file fails.
/// </summary>
public static class TestCommand
{
    public static Command Create(CliDefinition cli)
    {
        var paths = new Argument<string[]>("paths") { Description = "Files or folders (default: .)", Arity = ArgumentArity.ZeroOrMore };
        var jobs = new Option<int>("--jobs", "-j")
        {
            Description = "Run up to N files at once (each is its own process); default 1",
            DefaultValueFactory = _ => 1,
            HelpName = "N",
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only failures and the summary" };
        var command = new Command("test", "Run Lua test files (*_test.lua, *.test.lua)") { paths, jobs, quiet };
        command.SetAction(parse => Run(parse.GetValue(paths) ?? [], Math.Max(1, parse.GetValue(jobs)), parse.GetValue(quiet), parse.GetValue(cli.Verbose)));
        return command;
    }

    static int Run(string[] paths, int jobs, bool quiet, bool verbose)
    {
        var files = Discover(paths.Length == 0 ? ["."] : paths, out var missing);
        foreach (var m in missing) Console.Error.WriteLine($"error: no such file or folder: {m}");
        if (missing.Count > 0) return ScriptRunner.ExitUsage;
        if (files.Count == 0)
        {
            Console.Error.WriteLine("no test files found (looked for *_test.lua and *.test.lua)");
            return ScriptRunner.ExitError;
        }
        var progress = new TestProgress(quiet, verbose);
        var total = Stopwatch.StartNew();
        var results = new List<(string File, bool Ok, TimeSpan Elapsed)>();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = jobs }, file =>
        {
            progress.Started(file);
            var (ok, output, elapsed) = RunOne(file);
            progress.Finished(file, ok, output, elapsed);
            lock (results) results.Add((file, ok, elapsed));
        });
        progress.Summary(results, total.Elapsed);
        return results.All(r => r.Ok) ? ScriptRunner.ExitOk : ScriptRunner.ExitError;
    }

    /// <summary>
    /// What `assay test` prints: a line per finished file (PASS/FAIL and its time; failures with
    /// their output), on a terminal a transient line naming the files still running, and a summary.
    /// </summary>
    sealed class TestProgress(bool quiet, bool verbose)
    {
        readonly bool _live = !Console.IsOutputRedirected;
        readonly List<string> _running = [];
        readonly Lock _lock = new();

        public void Started(string file)
        {
            lock (_lock)
            {
                _running.Add(file);
                ShowRunning();
            }
        }

        public void Finished(string file, bool ok, string output, TimeSpan elapsed)
        {
            lock (_lock)
            {
                _running.Remove(file);
                ClearRunning();
                if (!ok || !quiet) Console.WriteLine($"{(ok ? "PASS" : "FAIL")}  {file}  ({elapsed.TotalMilliseconds:0} ms)");
                if ((!ok || verbose) && output.Length > 0)
                    Console.WriteLine(string.Join('\n', output.TrimEnd().Split('\n').Select(l => "    " + l)));
                ShowRunning();
            }
        }

        public void Summary(List<(string File, bool Ok, TimeSpan Elapsed)> results, TimeSpan wall)
        {
            int passed = results.Count(r => r.Ok), failed = results.Count - passed;
            Console.WriteLine($"{passed} passed, {failed} failed in {wall.TotalSeconds:0.0} s");
            if (failed > 0)
                foreach (var r in results.Where(r => !r.Ok).OrderBy(r => r.File, StringComparer.Ordinal))
                    Console.WriteLine($"  failed: {r.File}");
            if (!quiet && results.Count > 3)
                Console.WriteLine("slowest: " + string.Join(", ", results.OrderByDescending(r => r.Elapsed).Take(3)
                    .Select(r => $"{Path.GetFileName(r.File)} {r.Elapsed.TotalSeconds:0.0} s")));
        }

        void ShowRunning()
        {
            if (!_live || _running.Count == 0) return;
            var line = "running: " + string.Join(", ", _running.Select(Path.GetFileName));
            int width = Math.Max(20, Console.WindowWidth - 1); // only on a terminal (_live)
            Console.Write("\r" + (line.Length > width ? line[..(width - 1)] + "…" : line) + "\u001b[K");
        }

        void ClearRunning()
        {
            if (_live) Console.Write("\r\u001b[K");
        }
    }

    static List<string> Discover(IEnumerable<string> paths, out List<string> missing)
    {
        missing = [];
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var p in paths)
        {
            if (File.Exists(p))
            {
                files.Add(p);
            }
            else if (Directory.Exists(p))
            {
                foreach (var f in Directory.EnumerateFiles(p, "*.lua", SearchOption.AllDirectories))
                {
                    if (f.EndsWith("_test.lua", StringComparison.Ordinal) || f.EndsWith(".test.lua", StringComparison.Ordinal))
                        files.Add(f);
                }
            }
            else
            {
                missing.Add(p);
            }
        }
        return [.. files];
    }

    static (bool Ok, string Output, TimeSpan Elapsed) RunOne(string file)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "assay")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(file);
        // Tests that drive the CLI itself find the binary under test here.
        psi.Environment["ASSAY_BIN"] = Environment.ProcessPath ?? "assay";
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode == 0, stdout.Result + stderr.Result, sw.Elapsed);
    }
}
