using Assay.Engine.Hosting;
using Microsoft.Extensions.Logging;

// Usage: Assay.Engine.TestHost --backend <url-or-path> [--port N] [--lease-secs S]
// Prints "LISTENING <base-url>" once serving, then runs until SIGTERM/SIGINT (or SIGKILL in crash tests).
var options = new EngineOptions { Port = 0, LogLevel = LogLevel.Warning };
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--backend": options.Backend = args[i + 1]; break;
        case "--port": options.Port = int.Parse(args[i + 1]); break;
        case "--lease-secs": options.DispatchTimeout = TimeSpan.FromSeconds(double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture)); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 64;
    }
}

await using var engine = await EngineHost.StartAsync(options);
Console.WriteLine($"LISTENING {engine.BaseUrl}");
await engine.WaitForShutdownAsync();
await engine.StopAsync();
return 0;
