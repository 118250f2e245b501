using System.Text;
using System.Text.Json;
using Assay.Engine.Api;
using Assay.Engine.Core;
using Assay.Engine.Store;
using Microsoft.Extensions.Logging;

namespace Assay.Engine.Operations;

/// <summary>
/// Per-namespace retention: terminal workflows whose completion is older than their namespace's
/// <c>retention_secs</c> are written to <c>&lt;dir&gt;/&lt;namespace&gt;/&lt;id&gt;.json</c>
/// (<c>{"format_version":1,"archived_at","workflow","events","activities"}</c>, written to a temp
/// file, flushed and renamed) and only then purged from the store. Leader-only (the
/// "retention" lease); a crash between archive and purge re-archives the same file next time.
/// </summary>
internal sealed class Retention(IWorkflowStore store, string directory, ILogger log)
{
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var done = 0;
        foreach (var id in await store.RetentionCandidatesAsync(100))
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var wf = await store.GetWorkflowAsync(id);
                if (wf is null || !WorkflowStatus.IsTerminal(wf.Status)) continue;
                var events = await store.GetEventsAsync(id);
                var activities = await store.GetActivitiesAsync(id);
                await WriteArchiveAsync(wf, events, activities, ct);
                if (await store.PurgeWorkflowAsync(id)) done++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or EngineException)
            {
                log.LogWarning("Retention: could not archive workflow {Id}: {Message}", id, e.Message);
            }
        }
        if (done > 0) log.LogInformation("Retention: archived and purged {Count} workflow(s)", done);
        return done;
    }

    public string PathFor(string ns, string id) => Path.Combine(directory, SafeName(ns), SafeName(id) + ".json");

    /// <summary>File-system-safe name; anything unusual is replaced and a short hash keeps names distinct.</summary>
    static string SafeName(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        var safe = sb.ToString();
        if (safe == s && safe is not ("." or "..")) return safe;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(s)))[..8];
        return safe + "-" + hash;
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
                w.WriteNumber("archived_at", Clock.Now());
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
