using System.Diagnostics;
using Npgsql;

namespace Assay.Engine.Bench;

/// <summary>
/// A fresh database for one benchmark run on the PostgreSQL server at <c>serverUrl</c> (dropped on dispose), and the
/// server's own commit rate measured the way the engine commits: one-row INSERT transactions, awaited one by one.
/// </summary>
internal sealed class BenchPostgres : IAsyncDisposable
{
    readonly string _admin;     // connection string to the server's maintenance database
    readonly string _database;
    readonly NpgsqlDataSource _data;
    public string EngineUrl { get; }

    BenchPostgres(string serverUrl)
    {
        var uri = new UriBuilder(serverUrl);
        _admin = Store.BackendUrl.ToNpgsqlConnectionString(uri.Uri.ToString());
        _database = $"assay_bench_{Environment.ProcessId}_{DateTime.UtcNow:HHmmss}";
        uri.Path = "/" + _database;
        EngineUrl = uri.Uri.ToString();
        _data = NpgsqlDataSource.Create(Store.BackendUrl.ToNpgsqlConnectionString(EngineUrl));
    }

    public static async Task<BenchPostgres> CreateAsync(string serverUrl)
    {
        var pg = new BenchPostgres(serverUrl);
        await pg.AdminAsync($"CREATE DATABASE {pg._database}");
        return pg;
    }

    async Task<string> AdminAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(_admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (await cmd.ExecuteScalarAsync())?.ToString() ?? "";
    }

    /// <summary>The durability settings the figures depend on, as the server reports them.</summary>
    public Task<string> SettingsAsync() => AdminAsync(
        "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings " +
        "WHERE name IN ('fsync','synchronous_commit','full_page_writes','wal_sync_method','commit_delay','server_version')");

    /// <summary>Commits per second of one-row INSERT transactions from <paramref name="clients"/> concurrent connections.</summary>
    public async Task<double> RawCommitRateAsync(int clients, TimeSpan duration)
    {
        await using (var setup = _data.CreateCommand("CREATE TABLE IF NOT EXISTS raw_commits (id bigserial PRIMARY KEY, v text, at double precision)"))
            await setup.ExecuteNonQueryAsync();
        var sw = Stopwatch.StartNew();
        long n = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            await using var conn = await _data.OpenConnectionAsync();
            await using var insert = new NpgsqlCommand("INSERT INTO raw_commits (v, at) VALUES (@v, @at)", conn);
            var v = new NpgsqlParameter<string>("v", "");
            var at = new NpgsqlParameter<double>("at", 0.0);
            insert.Parameters.Add(v);
            insert.Parameters.Add(at);
            await insert.PrepareAsync();
            while (sw.Elapsed < duration)
            {
                await using var tx = await conn.BeginTransactionAsync();
                insert.Transaction = tx;
                v.TypedValue = "payload-" + c;
                at.TypedValue = sw.Elapsed.TotalSeconds;
                await insert.ExecuteNonQueryAsync();
                await tx.CommitAsync();
                Interlocked.Increment(ref n);
            }
        }));
        return n / sw.Elapsed.TotalSeconds;
    }

    /// <summary>WAL flushes (fsyncs) the server has done so far (pg_stat_wal, PostgreSQL 14+).</summary>
    public async Task<long> WalSyncsAsync() => long.Parse(await AdminAsync("SELECT wal_sync FROM pg_stat_wal"));

    /// <summary>CPU time the server's processes (postmaster's children: backends, WAL writer, checkpointer…) have used so
    /// far, read from /proc; null when the server is not a local process we can see.</summary>
    public async Task<TimeSpan?> ServerCpuAsync()
    {
        if (!int.TryParse(await AdminAsync("SELECT pg_backend_pid()"), out var backend)) return null;
        var postmaster = StatFields(backend) is { } own ? int.Parse(own[3]) : -1;
        if (postmaster <= 0) return null;
        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || StatFields(pid) is not { } f) continue;
            if (pid == postmaster || f[3] == postmaster.ToString()) ticks += long.Parse(f[13]) + long.Parse(f[14]); // utime + stime
        }
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ
    }

    /// <summary>/proc/PID/stat split into fields (field 1 = pid; the command name, which may hold spaces, is skipped).</summary>
    static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return [pid.ToString(), "comm", .. rest];
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    public async ValueTask DisposeAsync()
    {
        await _data.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
    }
}
