using System.Diagnostics;
using System.Globalization;
using Assay.Engine.Bench;
using Assay.Engine.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

// Measures, in one run on one disk:
//  1. the database's own commit rate (one-row INSERT transactions: SQLite in WAL with the engine's synchronous mode,
//     or, with --postgres, PostgreSQL from one client and from 16 concurrent clients);
//  2. throughput of two-activity workflows through the engine with REST workers (long-poll);
//  3. median start-to-completed latency of one workflow on an otherwise idle engine.
var workflows = Arg("--workflows", 3000);
var latencyRuns = Arg("--latency-runs", 200);
var workers = Arg("--workers", 8);
var dir = ArgS("--dir", Path.Combine(Path.GetTempPath(), "assay-engine-bench-" + Environment.ProcessId));
var synchronous = ArgS("--synchronous", "NORMAL");
var externalUrl = ArgS("--engine-url", ""); // benchmark an already running engine (e.g. the AOT `assay serve`)
var eager = !args.Contains("--no-eager"); // --no-eager: the classic protocol (every activity claimed by a poll)
var typed = args.Contains("--typed"); // --typed: polls list their types (type-aware dispatch)
var eagerWorkflow = !args.Contains("--no-eager-workflow"); // --no-eager-workflow: every workflow task claimed by a poll
// --postgres URL: the in-process engine runs on a fresh database created on that server (and dropped afterwards).
// bench/engine/postgres.sh starts a throwaway cluster with PostgreSQL's default durability for this.
var postgresServer = ArgS("--postgres", "");
Directory.CreateDirectory(dir);

var database = postgresServer == "" ? $"SQLite synchronous={synchronous}" : $"PostgreSQL {postgresServer}";
Console.WriteLine($"assay workflow engine benchmark — {Environment.ProcessorCount} cores, dir {dir}, {database}, eager activity dispatch {(eager ? "on" : "off")}, eager workflow tasks {(eager && eagerWorkflow ? "on" : "off")}, typed polls {(typed ? "on" : "off")}");

await using var pg = postgresServer == "" ? null : await BenchPostgres.CreateAsync(postgresServer);
double rawCommits;
if (pg is null)
{
    rawCommits = RawSqliteCommitRate(Path.Combine(dir, "raw.db"), synchronous, TimeSpan.FromSeconds(3));
    Console.WriteLine($"sqlite raw commits/s          {rawCommits,10:F0}");
}
else
{
    Console.WriteLine($"postgres settings             {await pg.SettingsAsync()}");
    var single = await pg.RawCommitRateAsync(1, TimeSpan.FromSeconds(3));
    Console.WriteLine($"postgres raw commits/s        {single,10:F0}   (one client: one WAL flush per commit)");
    rawCommits = await pg.RawCommitRateAsync(16, TimeSpan.FromSeconds(3));
    Console.WriteLine($"postgres raw commits/s, 16    {rawCommits,10:F0}   (16 concurrent clients: PostgreSQL's own group commit)");
}

await using var engine = externalUrl != "" ? null : await EngineHost.StartAsync(new EngineOptions
{
    Port = 0,
    Backend = pg?.EngineUrl ?? Path.Combine(dir, "engine.db"),
    LogLevel = LogLevel.Warning,
    SqliteSynchronous = synchronous,
});
var bench = new WorkflowBench(engine?.BaseUrl ?? externalUrl.TrimEnd('/'), workers, eager, typed, eagerWorkflow);
await bench.StartWorkersAsync();

await bench.RunBatchAsync(200, "warmup");
var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
var handedBefore = bench.HandedOver;
var serverCpuBefore = pg is null ? null : await pg.ServerCpuAsync();
var walSyncsBefore = pg is null ? 0 : await pg.WalSyncsAsync();
var (elapsed, done) = await bench.RunBatchAsync(workflows, "tput");
var handed = bench.HandedOver - handedBefore;
var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
var serverCpu = pg is null ? null : await pg.ServerCpuAsync() - serverCpuBefore;
var walSyncs = pg is null ? 0 : await pg.WalSyncsAsync() - walSyncsBefore;
var throughput = done / elapsed.TotalSeconds;
double txPerWorkflow = bench.TransactionsPerWorkflow;
Console.WriteLine($"workflows completed           {done,10}");
Console.WriteLine($"throughput workflows/s        {throughput,10:F0}   (target >= 500)");
Console.WriteLine(engine is null
    ? $"cpu per workflow, this process {cpu.TotalMilliseconds / done,10:F2} ms   (workers and their HTTP side only; the engine runs elsewhere)"
    : $"cpu per workflow              {cpu.TotalMilliseconds / done,10:F2} ms   (engine + workers + HTTP both sides; {Environment.ProcessorCount} cores => ceiling {Environment.ProcessorCount * 1000.0 / (cpu.TotalMilliseconds / done):F0}/s)");
if (eager && eagerWorkflow)
{
    // Each workflow has two workflow tasks an activity completion can hand over; every one that was not costs a poll.
    txPerWorkflow += 2 - (double)handed / done;
    Console.WriteLine($"eager workflow tasks          {(double)handed / done,10:F2}   per workflow (of 2 possible)");
}
if (serverCpu is { } server)
    Console.WriteLine($"postgres server cpu/workflow  {server.TotalMilliseconds / done,10:F2} ms   (with the above: ceiling {Environment.ProcessorCount * 1000.0 / ((cpu + server).TotalMilliseconds / done):F0}/s on {Environment.ProcessorCount} idle cores)");
if (pg is not null)
    Console.WriteLine($"WAL flushes per workflow      {(double)walSyncs / done,10:F2}   ({txPerWorkflow * done / Math.Max(1.0, walSyncs):F1} engine write operations per flush)");
Console.WriteLine($"engine transactions/s         {throughput * txPerWorkflow,10:F0}   ({txPerWorkflow:0.##} write transactions per workflow)");
Console.WriteLine($"ratio to raw commits          {throughput * txPerWorkflow / rawCommits,10:P1}");

var latencies = await bench.MeasureLatencyAsync(latencyRuns);
latencies.Sort();
Console.WriteLine($"latency start->completed p50  {latencies[latencies.Count / 2],10:F2} ms   (target <= 20 ms)");
Console.WriteLine($"latency start->completed p95  {latencies[(int)(latencies.Count * 0.95)],10:F2} ms");

await bench.DisposeAsync();
try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
return 0;

static double RawSqliteCommitRate(string path, string synchronous, TimeSpan duration)
{
    using var conn = new SqliteConnection($"Data Source={path}");
    conn.Open();
    using (var setup = conn.CreateCommand())
    {
        // The same settings the engine uses, so the ratio compares like with like.
        setup.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; {Assay.Engine.Store.SqliteTuning.Pragmas} CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, at REAL)";
        setup.ExecuteNonQuery();
    }
    using var insert = conn.CreateCommand();
    insert.CommandText = "INSERT INTO t (v, at) VALUES ($v, $at)";
    var v = insert.Parameters.Add("$v", SqliteType.Text);
    var at = insert.Parameters.Add("$at", SqliteType.Real);
    var sw = Stopwatch.StartNew();
    long n = 0;
    while (sw.Elapsed < duration)
    {
        using var tx = conn.BeginTransaction();
        insert.Transaction = tx;
        v.Value = "payload-" + n;
        at.Value = sw.Elapsed.TotalSeconds;
        insert.ExecuteNonQuery();
        tx.Commit();
        n++;
    }
    return n / sw.Elapsed.TotalSeconds;
}

int Arg(string name, int fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
string ArgS(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
