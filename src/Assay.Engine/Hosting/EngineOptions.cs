using System.Reflection;

namespace Assay.Engine.Hosting;

/// <summary>Everything <c>assay serve</c> can set. Defaults are the documented ones.</summary>
public sealed class EngineOptions
{
    /// <summary>Interface to bind. Loopback by default: exposing the engine is an explicit choice.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (see <see cref="RunningEngine.BaseUrl"/>).</summary>
    public int Port { get; set; } = 8080;

    /// <summary>Store URL. Null: <c>DATABASE_URL</c>, else the SQLite file <c>assay-workflow.db</c> in the working directory.
    /// <c>postgres://</c>/<c>postgresql://</c> select PostgreSQL; <c>sqlite:</c> URLs and file paths select SQLite.</summary>
    public string? Backend { get; set; }

    /// <summary>Largest accepted request body; larger ones are answered 413.</summary>
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;

    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    /// <summary>"text" (one line per entry) or "json" (structured, one JSON object per line).</summary>
    public string LogFormat { get; set; } = "text";

    /// <summary>Last word on logging (add providers, filters). Runs after the defaults above.</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }

    /// <summary>Workflow-task lease. Null: <c>ASSAY_WF_DISPATCH_TIMEOUT_SECS</c>, else 30 s.</summary>
    public TimeSpan? DispatchTimeout { get; set; }

    /// <summary>Workers silent for longer are dropped from the registry.</summary>
    public TimeSpan WorkerTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>SQLite <c>PRAGMA synchronous</c>: NORMAL (durable across process crashes, the default) or FULL (also across power loss).</summary>
    public string SqliteSynchronous { get; set; } = "NORMAL";

    /// <summary>Authentication for /api/v1 (health and version stay open). Null = open access.</summary>
    public IRequestAuthenticator? Authenticator { get; set; }

    /// <summary>Accept API keys (bearer tokens <c>assay_…</c> stored as hashes in the database).</summary>
    public bool AuthApiKey { get; set; }

    /// <summary>Accept JWTs from this OIDC issuer (discovery + JWKS). Null = no JWT auth.</summary>
    public string? AuthIssuer { get; set; }

    /// <summary>Expected <c>aud</c> of JWTs; checked only when set.</summary>
    public string? AuthAudience { get; set; }

    /// <summary>Least time between two JWKS fetches caused by tokens with an unknown <c>kid</c>.</summary>
    public TimeSpan JwksMinRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every task claim is lease-bound: reports without the claim's lease token are refused (409), whatever
    /// the poll asked. Off by default so clients that never send tokens (the original seed client) keep working.</summary>
    public bool RequireLeaseToken { get; set; }

    /// <summary>Directory for retention archives (JSON per workflow). Null: retention is off (nothing is purged).</summary>
    public string? ArchiveDirectory { get; set; }

    /// <summary>How often retention runs.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Idle time after which the event stream sends a keep-alive comment.</summary>
    public TimeSpan SseKeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>True when any authentication is configured.</summary>
    public bool AuthEnabled => Authenticator is not null || AuthApiKey || !string.IsNullOrEmpty(AuthIssuer);

    /// <summary>Reported by /api/v1/version; the embedding binary's version when it sets it.</summary>
    public string? Version { get; set; }

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The engine's clock: every timestamp it stores and every wait (leases, timers, retries, schedules, long
    /// polls, background loops) goes through it. The system clock unless a test drives time itself.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where start-up warnings and errors go when they must be seen even with logging off (stderr).</summary>
    public TextWriter? ErrorOutput { get; set; }

    public static string DefaultVersion { get; } =
        typeof(EngineOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    internal TimeSpan ResolveDispatchTimeout()
    {
        if (DispatchTimeout is { } t) return t;
        var env = Environment.GetEnvironmentVariable("ASSAY_WF_DISPATCH_TIMEOUT_SECS");
        return double.TryParse(env, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs) && secs > 0
            ? TimeSpan.FromSeconds(secs)
            : TimeSpan.FromSeconds(30);
    }

    internal string? ResolveBackend() =>
        !string.IsNullOrWhiteSpace(Backend) ? Backend : Environment.GetEnvironmentVariable("DATABASE_URL");
}
