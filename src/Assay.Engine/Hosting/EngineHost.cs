using System.Net;
using Assay.Engine.Api;
using Assay.Engine.Store;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Assay.Engine.Hosting;

/// <summary>Entry points: <c>assay serve</c> calls <see cref="RunAsync"/>; tests and benchmarks use <see cref="StartAsync"/>.</summary>
public static class EngineHost
{
    /// <summary>Serves until <paramref name="ct"/> is cancelled or the process is asked to stop (SIGINT/SIGTERM).
    /// Returns the process exit code: 0 after a clean shutdown, 1 when the engine could not start.</summary>
    public static async Task<int> RunAsync(EngineOptions options, CancellationToken ct)
    {
        RunningEngine engine;
        try
        {
            engine = await StartAsync(options);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ArgumentException or UriFormatException
                                      or System.Net.Sockets.SocketException or Npgsql.NpgsqlException
                                      or Microsoft.Data.Sqlite.SqliteException)
        {
            (options.ErrorOutput ?? Console.Error).WriteLine($"assay serve: {e.Message}");
            return 1;
        }
        await using (engine)
        {
            await engine.WaitForShutdownAsync(ct);
            await engine.StopAsync();
        }
        return 0;
    }

    /// <summary>Opens the store (migrating it), takes the single-instance lock where the backend needs one,
    /// binds the HTTP listener and starts the background loops.</summary>
    public static async Task<RunningEngine> StartAsync(EngineOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        ConfigureLogging(builder.Logging, options);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        var address = ResolveAddress(options.Host);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            // Kestrel refuses a request line over its limit with an empty 414 before any middleware runs; with room
            // above our own limit (Limits.MaxPathBytes), long paths get the JSON error the API promises.
            k.Limits.MaxRequestLineSize = 4 * Limits.MaxPathBytes;
            k.AddServerHeader = false;
            k.Listen(address, options.Port, listen => listen.Use(RejectionBodies.Wrap));
        });

        var app = builder.Build();
        var loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        var log = loggerFactory.CreateLogger("Assay.Engine");

        var backend = BackendUrl.Parse(options.ResolveBackend());
        var store = OpenStore(backend, options, loggerFactory.CreateLogger("Assay.Engine.Store"));
        var instanceId = Guid.NewGuid().ToString("N");
        try
        {
            await store.MigrateAsync();
            await store.AcquireInstanceAsync(instanceId);
        }
        catch
        {
            await store.DisposeAsync();
            await app.DisposeAsync();
            throw;
        }

        var timings = new EngineTimings { DispatchTimeout = options.ResolveDispatchTimeout(), WorkerTimeout = options.WorkerTimeout };
        var engine = new WorkflowEngine(store, timings, options.TimeProvider, loggerFactory.CreateLogger("Assay.Engine.Core")) {
            InstanceId = instanceId, ArchiveDirectory = options.ArchiveDirectory, RetentionInterval = options.RetentionInterval,
        };
        var authenticator = options.Authenticator ?? BuildAuthenticator(options, store, loggerFactory.CreateLogger("Assay.Engine.Auth"));
        Routes.Map(app, engine, options, authenticator);

        try
        {
            await app.StartAsync();
        }
        catch
        {
            await store.ReleaseInstanceAsync(instanceId);
            await engine.DisposeAsync();
            await app.DisposeAsync();
            throw;
        }

        var baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        log.LogInformation("Workflow engine listening on {Url} (store: {Backend}, lease {Lease}s)", baseUrl, store.BackendName,
            timings.DispatchTimeout.TotalSeconds);
        if (authenticator is not null) log.LogInformation("Authentication: {Mode}", authenticator.Description);
        if (!IPAddress.IsLoopback(address) && authenticator is null)
        {
            var warning = $"WARNING: the workflow engine listens on {options.Host} without authentication; anyone who can reach this port controls it";
            log.LogWarning("{Warning}", warning);
            (options.ErrorOutput ?? Console.Error).WriteLine(warning);
        }
        var running = new RunningEngine(app, engine, baseUrl.TrimEnd('/'), instanceId, log);
        // Report started once other instances' work reaches our long-polls; until then they would
        // only see it at their periodic re-check.
        try { await engine.RemoteWorkListening.WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (TimeoutException) { log.LogWarning("Not yet notified of other instances' work; polls re-check every second meanwhile"); }
        return running;
    }

    static IRequestAuthenticator? BuildAuthenticator(EngineOptions options, IApiKeyStore store, ILogger log)
    {
        if (!options.AuthApiKey && string.IsNullOrEmpty(options.AuthIssuer)) return null;
        var jwt = string.IsNullOrEmpty(options.AuthIssuer)
            ? null
            : new Auth.JwtValidator(options.AuthIssuer, options.AuthAudience, log, time: options.TimeProvider)
            {
                MinRefreshInterval = options.JwksMinRefreshInterval,
            };
        return new Auth.EngineAuthenticator(store, options.AuthApiKey, jwt);
    }

    internal static IEngineStore OpenStore(BackendUrl backend, EngineOptions options, ILogger logger) => backend.Kind switch
    {
        BackendKind.Postgres => new PostgresEngineStore(backend.Target, options.TimeProvider, logger),
        _ => new SqliteEngineStore(backend.Target, SynchronousMode(options.SqliteSynchronous), options.TimeProvider, logger),
    };

    static string SynchronousMode(string mode) => mode.ToUpperInvariant() is "FULL" or "NORMAL" or "EXTRA" or "OFF"
        ? mode.ToUpperInvariant()
        : throw new ArgumentException($"invalid SQLite synchronous mode '{mode}'");

    static IPAddress ResolveAddress(string host)
    {
        if (host is "localhost") return IPAddress.Loopback;
        if (host is "*" or "0.0.0.0") return IPAddress.Any;
        if (IPAddress.TryParse(host, out var ip)) return ip;
        return Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new ArgumentException($"cannot resolve host '{host}'");
    }

    static void ConfigureLogging(ILoggingBuilder logging, EngineOptions options)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(options.LogLevel);
        // Kestrel and hosting chatter stays out unless debugging.
        logging.AddFilter("Microsoft", options.LogLevel <= LogLevel.Debug ? options.LogLevel : LogLevel.Warning);
        // Hosting opens a logging scope for every request whenever its logger is enabled at all; it only ever logs
        // request start/end (debug chatter; our error middleware logs faults), so outside debugging it is switched
        // off and requests skip the scope (an AsyncLocal push and allocations per request).
        if (options.LogLevel > LogLevel.Debug) logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        if (options.LogFormat == "json")
            logging.AddJsonConsole(o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ");
        else
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        options.ConfigureLogging?.Invoke(logging);
    }
}

/// <summary>A started engine. Dispose (or <see cref="StopAsync"/>) to shut it down gracefully.</summary>
public sealed class RunningEngine : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly string _instanceId;
    readonly ILogger _log;
    readonly CancellationTokenSource _background = new();
    readonly Task _loops;
    int _stopped;

    internal RunningEngine(WebApplication app, WorkflowEngine engine, string baseUrl, string instanceId, ILogger log)
    {
        _app = app;
        Engine = engine;
        BaseUrl = baseUrl;
        _instanceId = instanceId;
        _log = log;
        _loops = Task.Run(() => engine.RunBackgroundAsync(_background.Token));
    }

    /// <summary>e.g. <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string BaseUrl { get; }

    public WorkflowEngine Engine { get; }

    /// <summary>Completes when the host is asked to stop (SIGINT/SIGTERM) or <paramref name="ct"/> is cancelled.</summary>
    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    /// <summary>Stops accepting requests, lets in-flight ones finish (waiting polls answer empty), stops the loops
    /// and releases the database (including the SQLite single-instance lock).</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1) return;
        _log.LogInformation("Workflow engine shutting down");
        await _app.StopAsync();
        await _background.CancelAsync();
        try { await _loops; } catch (OperationCanceledException) { }
        try
        {
            await Engine.Store.ReleaseInstanceAsync(_instanceId);
        }
        catch (Exception e)
        {
            _log.LogWarning("Could not clear the instance marker: {Message}", e.Message);
        }
        await Engine.DisposeAsync();
        await _app.DisposeAsync();
        _background.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
