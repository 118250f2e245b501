using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Assay.Cli.ToolMode;

/// <summary>
/// Pending approvals of tool-mode scripts: one file per resume token under
/// <c>$ASSAY_STATE_DIR</c> (or <c>$OPENCLAW_STATE_DIR</c>, or <c>~/.assay/state</c>)/resume/, mode 0600.
/// A token is 32 lowercase hex digits and nothing else, so it can never name another file.
/// </summary>
public static partial class ApprovalStore
{
    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TokenPattern();

    public static bool IsValidToken(string token) => TokenPattern().IsMatch(token);

    public static string StateDir()
    {
        foreach (var name in new[] { "ASSAY_STATE_DIR", "OPENCLAW_STATE_DIR" })
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } dir) return dir;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length == 0) throw new InvalidOperationException("no state directory: set ASSAY_STATE_DIR or HOME");
        return Path.Combine(home, ".assay", "state");
    }

    static string PathOf(string token) => Path.Combine(StateDir(), "resume", token + ".json");

    public static string Hash(byte[] script) => Convert.ToHexStringLower(SHA256.HashData(script));

    /// <summary>Records a gate waiting for an answer; returns its resume token.</summary>
    public static string Save(string scriptPath, byte[] script, string prompt, JsonNode? context, IReadOnlyList<string> answers, int ttlSecs)
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var state = new JsonObject
        {
            ["script_path"] = Path.GetFullPath(scriptPath),
            ["script_sha256"] = Hash(script),
            ["approval_prompt"] = prompt,
            ["approval_context"] = context?.DeepClone(),
            ["answers"] = new JsonArray(answers.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["created_at"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["ttl_secs"] = ttlSecs,
        };
        var path = PathOf(token);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using (var stream = new FileStream(path, new FileStreamOptions
               {
                   Mode = FileMode.CreateNew, Access = FileAccess.Write,
                   UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
               }))
        using (var writer = new Utf8JsonWriter(stream))
            state.WriteTo(writer);
        return token;
    }

    public static JsonObject Load(string token)
    {
        if (!IsValidToken(token)) throw new ArgumentException("invalid resume token");
        var path = PathOf(token);
        if (!File.Exists(path)) throw new ArgumentException("invalid resume token");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ArgumentException("corrupt resume state");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"corrupt resume state: {e.Message}");
        }
    }

    public static void Delete(string token)
    {
        if (IsValidToken(token)) File.Delete(PathOf(token));
    }

    /// <summary>Answers given to earlier gates of this run (ASSAY_APPROVALS, a JSON array of "yes"/"no").</summary>
    public static List<string> AnswersFromEnvironment()
    {
        var raw = Environment.GetEnvironmentVariable("ASSAY_APPROVALS");
        if (string.IsNullOrEmpty(raw)) return [];
        try
        {
            return (JsonNode.Parse(raw) as JsonArray ?? []).Select(n => n?.GetValue<string>() ?? "no").ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return [];
        }
    }
}
