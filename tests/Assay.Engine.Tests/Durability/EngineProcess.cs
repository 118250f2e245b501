using System.Diagnostics;

namespace Assay.Engine.Tests.Durability;

/// <summary>The engine in its own OS process (Assay.Engine.TestHost), so a test can SIGKILL it.</summary>
public sealed class EngineProcess : IAsyncDisposable
{
    readonly Process _process;

    EngineProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    static string HostDll()
    {
        // tests/Assay.Engine.Tests/bin/<Configuration>/<tfm>/ → tests/Assay.Engine.TestHost/bin/<Configuration>/<tfm>/
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = here.Name;
        var config = here.Parent!.Name;
        var testsDir = here.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(testsDir, "Assay.Engine.TestHost", "bin", config, tfm, "Assay.Engine.TestHost.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("build tests/Assay.Engine.TestHost first", dll);
    }

    public static async Task<EngineProcess> StartAsync(string backend, int port, double leaseSecs = 2)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "exec", HostDll(), "--backend", backend, "--port", port.ToString(), "--lease-secs", leaseSecs.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginErrorReadLine();
        var readLine = process.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(readLine, Task.Delay(TimeSpan.FromSeconds(30))) != readLine || readLine.Result is not { } line || !line.StartsWith("LISTENING "))
        {
            process.Kill(entireProcessTree: true);
            lock (stderr) throw new InvalidOperationException($"engine process did not start: {stderr}");
        }
        return new EngineProcess(process, line["LISTENING ".Length..].Trim());
    }

    /// <summary>SIGKILL: no shutdown code runs, like a power cut for the process.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM: graceful shutdown. Returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    public static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
    }
}
