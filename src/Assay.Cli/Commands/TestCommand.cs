using System.CommandLine;
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
        var command = new Command("test", "Run Lua test files (*_test.lua, *.test.lua)") { paths };
        command.SetAction(parse => Run(parse.GetValue(paths) ?? [], parse.GetValue(cli.Verbose)));
        return command;
    }

    static int Run(string[] paths, bool verbose)
    {
        var files = Discover(paths.Length == 0 ? ["."] : paths, out var missing);
        foreach (var m in missing) Console.Error.WriteLine($"error: no such file or folder: {m}");
        if (missing.Count > 0) return ScriptRunner.ExitUsage;
        if (files.Count == 0)
        {
            Console.Error.WriteLine("no test files found (looked for *_test.lua and *.test.lua)");
            return ScriptRunner.ExitError;
        }
        int passed = 0, failed = 0;
        foreach (var file in files)
        {
            var (ok, output, elapsed) = RunOne(file);
            if (ok) passed++; else failed++;
            Console.WriteLine($"{(ok ? "PASS" : "FAIL")}  {file}  ({elapsed.TotalMilliseconds:0} ms)");
            if ((!ok || verbose) && output.Length > 0)
                Console.WriteLine(string.Join('\n', output.TrimEnd().Split('\n').Select(l => "    " + l)));
        }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? ScriptRunner.ExitOk : ScriptRunner.ExitError;
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
