using Assay.Engine.Api;

namespace Assay.Engine.Operations;

/// <summary>
/// Per-namespace retention: terminal workflows whose completion is older than their namespace's
/// <c>retention_secs</c> are written to <c>&lt;dir&gt;/&lt;namespace&gt;/&lt;id&gt;.json</c> (ids with unusual characters
/// get a hash suffix; ids over 160 characters are cut and carry their full SHA-256)
/// (<c>{"format_version":1,"archived_at","workflow","events","activities"}</c>, written to a temp
/// file, flushed and renamed) and only then purged from the store. Leader-only (the
/// "retention" lease); a crash between archive and purge re-archives the same file next time.
/// </summary>
internal sealed class Retention(IWorkflowStore workflows, IActivityStore activities, IRetentionStore store, string directory,
    TimeProvider time, ILogger log)
{
    const int PageSize = 100;

    /// <summary>One pass over every expired workflow, a page at a time. A workflow that cannot be archived is
    /// logged and passed over (tried again next pass), so it never holds back the ones behind it.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var done = 0;
        var failed = 0;
        var (afterAt, afterId) = (-1.0, "");
        while (true)
        {
            var page = await store.RetentionCandidatesAsync(PageSize, afterAt, afterId);
            foreach (var (id, completedAt) in page)
            {
                ct.ThrowIfCancellationRequested();
                (afterAt, afterId) = (completedAt, id);
                if (await ArchiveAndPurgeAsync(id, ct)) done++;
                else failed++;
            }
            if (page.Count < PageSize) break;
        }
        if (done > 0) log.LogInformation("Retention: archived and purged {Count} workflow(s)", done);
        if (failed > 0) log.LogWarning("Retention: {Count} workflow(s) could not be archived; retried next pass", failed);
        return done;
    }

    async Task<bool> ArchiveAndPurgeAsync(string id, CancellationToken ct)
    {
        try
        {
            var wf = await workflows.GetWorkflowAsync(id);
            if (wf is null || !WorkflowStatus.IsTerminal(wf.Status)) return true; // gone meanwhile: nothing to do
            var events = await workflows.GetEventsAsync(id);
            await WriteArchiveAsync(wf, events, await activities.GetActivitiesAsync(id), ct);
            return await store.PurgeWorkflowAsync(id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EngineException)
        {
            log.LogWarning("Retention: could not archive workflow {Id}: {Message}", id, e.Message);
            return false;
        }
    }

    public string PathFor(string ns, string id) => Path.Combine(directory, SafeName(ns), SafeName(id) + ".json");

    /// <summary>Longest name kept readable; longer ones (derived ids grow with every continue-as-new) are cut and
    /// named by their full hash, so the file name (with ".json.tmp") stays well inside the usual 255-byte limit.</summary>
    const int MaxReadableName = 160;

    /// <summary>File-system-safe name; anything unusual is replaced and a short hash keeps names distinct.</summary>
    internal static string SafeName(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        var safe = sb.ToString();
        if (safe == s && safe is not ("." or "..") && safe.Length <= MaxReadableName) return safe;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(s)));
        return safe.Length <= MaxReadableName ? safe + "-" + hash[..8] : safe[..MaxReadableName] + "-" + hash;
    }

    async Task WriteArchiveAsync(WorkflowRecord wf, IReadOnlyList<EventRecord> events, IReadOnlyList<ActivityRecord> activities, CancellationToken ct)
    {
        var path = PathFor(wf.Namespace, wf.Id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + ".tmp";
        await using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await using (var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true, Encoder = JsonText.Encoder }))
            {
                w.WriteStartObject();
                w.WriteNumber("format_version", 1);
                w.WriteNumber("archived_at", time.EpochSeconds());
                w.WritePropertyName("workflow");
                JsonSerializer.Serialize(w, wf, EngineJsonContext.Wire.WorkflowRecord);
                w.WritePropertyName("events");
                JsonSerializer.Serialize(w, events, EngineJsonContext.Wire.IReadOnlyListEventRecord);
                w.WritePropertyName("activities");
                JsonSerializer.Serialize(w, activities, EngineJsonContext.Wire.IReadOnlyListActivityRecord);
                w.WriteEndObject();
            }
            await fs.FlushAsync(ct);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
