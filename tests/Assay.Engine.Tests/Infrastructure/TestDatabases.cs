using Npgsql;
using Assay.Engine.Store;

namespace Assay.Engine.Tests.Infrastructure;

public enum Backend { Sqlite, Postgres }

/// <summary>
/// Real databases for tests: a fresh SQLite file in a temp directory, or a fresh database on the
/// PostgreSQL server named by ASSAY_TEST_POSTGRES_URL (scripts/postgres-up.sh prints one).
/// Without that variable the PostgreSQL variants report "skipped" (never "passed"), saying how to run them.
/// </summary>
public static class TestDatabases
{
    public static string? PostgresServerUrl => Environment.GetEnvironmentVariable("ASSAY_TEST_POSTGRES_URL") is { Length: > 0 } u ? u : null;

    public const string MissingPostgresMessage =
        "PostgreSQL variant skipped: ASSAY_TEST_POSTGRES_URL is not set. Start a server with " +
        "`export ASSAY_TEST_POSTGRES_URL=$(scripts/postgres-up.sh | tail -1)` to run it.";

    /// <summary>Skips the calling test (a [SkippableFact] / [SkippableTheory]) when there is no Postgres server to test against.</summary>
    public static void RequirePostgres() => Skip.If(PostgresServerUrl is null, MissingPostgresMessage);

    public static string NewSqliteFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), "assay-engine-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, "engine.db");
    }

    /// <summary>Creates an empty database on the test server and returns its URL.</summary>
    public static async Task<string> NewPostgresDatabaseAsync()
    {
        RequirePostgres();
        var serverUrl = PostgresServerUrl!;
        var name = "assay_t_" + Guid.NewGuid().ToString("N")[..12];
        await using (var conn = new NpgsqlConnection(BackendUrl.ToNpgsqlConnectionString(serverUrl)))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var uri = new UriBuilder(serverUrl) { Path = "/" + name };
        return uri.Uri.ToString();
    }

    /// <summary>Runs one statement directly on an engine's database (to plant rows the API refuses to write);
    /// answers the first column of the first row, if any.</summary>
    public static async Task<object?> ExecAsync(string backendUrl, string sql)
    {
        await using var conn = await OpenAsync(backendUrl);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return await cmd.ExecuteScalarAsync();
    }

    /// <summary>The first column of every row a query on an engine's database answers.</summary>
    public static async Task<List<object>> QueryColumnAsync(string backendUrl, string sql)
    {
        await using var conn = await OpenAsync(backendUrl);
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<object>();
        while (await r.ReadAsync()) rows.Add(r.GetValue(0));
        return rows;
    }

    /// <summary>A connection of its own to an engine's database, beside the engine's.</summary>
    static async Task<System.Data.Common.DbConnection> OpenAsync(string backendUrl)
    {
        var backend = BackendUrl.Parse(backendUrl);
        System.Data.Common.DbConnection conn = backend.Kind == BackendKind.Postgres
            ? new NpgsqlConnection(BackendUrl.ToNpgsqlConnectionString(backendUrl))
            : new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={backend.Target}");
        await conn.OpenAsync();
        return conn;
    }

    /// <summary>A migrated engine store on <paramref name="location"/> (a SQLite file or a PostgreSQL URL).</summary>
    internal static async Task<SqlEngineStore> OpenStoreAsync(Backend backend, string location)
    {
        SqlEngineStore store = backend == Backend.Sqlite
            ? new SqliteEngineStore(location, "NORMAL", TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
            : new PostgresEngineStore(location, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await store.MigrateAsync();
        return store;
    }

    public static async Task<string> NewBackendAsync(Backend backend) => backend switch
    {
        Backend.Sqlite => NewSqliteFile(),
        _ => await NewPostgresDatabaseAsync(),
    };
}
