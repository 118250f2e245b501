using Assay.Engine.Hosting;

namespace Assay.Engine.Tests.Reliability;

/// <summary>Issue 12 item 12: retention never stalls behind workflows it cannot archive under their plain id.</summary>
public sealed class RetentionBacklogTests
{
    [Fact]
    public async Task Long_ids_are_archived_under_hashed_names_and_do_not_hold_back_the_rest()
    {
        var dir = Path.Combine(Path.GetTempPath(), "assay-archive-" + Guid.NewGuid().ToString("N")[..8]);
        var db = TestDatabases.NewSqliteFile();
        var o = EngineFixture.Options(db);
        o.ArchiveDirectory = dir;
        o.RetentionInterval = TimeSpan.FromMilliseconds(200);
        var engine = await EngineHost.StartAsync(o);
        try
        {
            var c = new EngineClient(engine.BaseUrl);
            (await c.PostAsync("/namespaces", O(("name", "r"), ("retention_secs", 3600)))).Expect(201);
            // More than one page (100) of ids whose "<id>.json" is longer than a file name may be, finished first ...
            var ids = Enumerable.Range(0, 105).Select(i => $"{i:D3}" + new string('L', 250)).ToList();
            ids.Add("plain-1"); // ... and one ordinary workflow behind them.
            foreach (var id in ids)
            {
                (await c.PostAsync("/workflows", O(("workflow_type", "T"), ("workflow_id", id), ("namespace", "r")))).Expect(201);
                (await c.PostAsync($"/workflows/{id}/terminate", O(("reason", "done")))).Expect(200);
            }
            (await c.PatchAsync("/namespaces/r", O(("retention_secs", 0)))).Expect(200);

            var plain = Path.Combine(dir, "r", "plain-1.json");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(plain) || (await c.GetAsync($"/workflows/{ids[0]}")).Code != 404)
            {
                if (sw.Elapsed > TimeSpan.FromSeconds(30))
                    Assert.Fail($"retention stalled; archived: {(Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Length : 0)}");
                await Task.Delay(100);
            }
            var files = Directory.GetFiles(Path.Combine(dir, "r"), "*.json");
            Assert.Equal(ids.Count, files.Length);
            Assert.All(files, f => Assert.True(Path.GetFileName(f).Length <= 230, f));
            foreach (var id in ids) (await c.GetAsync($"/workflows/{id}")).Expect(404);
            // The archive keeps the full id.
            var one = files.Single(f => Path.GetFileName(f).StartsWith("000"));
            Assert.Equal(ids[0], JsonNode.Parse(await File.ReadAllTextAsync(one))!["workflow"]!["id"].Str());
        }
        finally
        {
            await engine.DisposeAsync();
        }
        // A clean shutdown releases the retention lease (docs/operations.md), so another engine takes over at once.
        Assert.Equal(0L, Convert.ToInt64(await TestDatabases.ExecAsync(db, "SELECT COUNT(*) FROM engine_leases WHERE name = 'retention'")));
        Assert.Equal(0L, Convert.ToInt64(await TestDatabases.ExecAsync(db, "SELECT COUNT(*) FROM engine_leases")));
    }
}
