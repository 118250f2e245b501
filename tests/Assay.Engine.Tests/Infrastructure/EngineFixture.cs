using Assay.Engine.Hosting;
using Microsoft.Extensions.Logging;

namespace Assay.Engine.Tests.Infrastructure;

/// <summary>
/// One engine per test class, on its own fresh database, on 127.0.0.1 with a free port.
/// Tests share it but use unique workflow ids and queues, so they do not see each other.
/// The lease timeout is short (2 s) so lease-recovery tests run quickly.
/// </summary>
public abstract class EngineFixture : IAsyncLifetime
{
    public abstract Backend Backend { get; }
    public RunningEngine? Engine { get; private set; }
    public string BackendUrl { get; private set; } = "";
    Exception? _startError;

    public static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(2);

    public async Task InitializeAsync()
    {
        if (Backend == Backend.Postgres && TestDatabases.PostgresServerUrl is null) return; // each test reports "skipped"
        try
        {
            BackendUrl = await TestDatabases.NewBackendAsync(Backend);
            Engine = await EngineHost.StartAsync(Options(BackendUrl));
        }
        catch (Exception e)
        {
            _startError = e;
        }
    }

    public static EngineOptions Options(string backend) => new()
    {
        Port = 0,
        Backend = backend,
        DispatchTimeout = LeaseTimeout,
        LogLevel = LogLevel.Warning,
    };

    /// <summary>The running engine's client; skips or fails the calling test when the backend is unavailable.</summary>
    public EngineClient Client()
    {
        if (Backend == Backend.Postgres) TestDatabases.RequirePostgres();
        if (_startError is not null) throw new InvalidOperationException("engine failed to start", _startError);
        return new EngineClient(Engine!.BaseUrl);
    }

    public async Task DisposeAsync()
    {
        if (Engine is not null) await Engine.DisposeAsync();
    }
}

public sealed class SqliteEngineFixture : EngineFixture
{
    public override Backend Backend => Backend.Sqlite;
}

public sealed class PostgresEngineFixture : EngineFixture
{
    public override Backend Backend => Backend.Postgres;
}
