using System.Diagnostics;

namespace Assay.Cli.ToolMode;

/// <summary>
/// `assay resume --token T --approve yes|no`: answers one approval gate and re-runs the script in
/// tool mode with every answer so far (each gate gets its own answer, in order). Refuses when the
/// script changed since the gate was raised. Always exits 0 and prints one envelope.
/// </summary>
public static class ResumeCommand
{
    public static Command Create()
    {
        var token = new Option<string>("--token") { Description = "Resume token from the needs_approval envelope", Required = true };
        var approve = new Option<string>("--approve") { Description = "yes or no", Required = true };
        approve.AcceptOnlyFromAmong("yes", "no");
        var ttl = new Option<int?>("--resume-ttl") { Description = "Override how long a token stays valid (seconds)" };
        var command = new Command("resume", "Answer a tool-mode approval gate and continue the script") { token, approve, ttl };
        command.SetAction(parse =>
        {
            Console.Out.Write(Resume(parse.GetValue(token)!, parse.GetValue(approve)!, parse.GetValue(ttl)));
            Console.Out.Flush();
            return 0;
        });
        return command;
    }

    static string Resume(string token, string answer, int? ttlOverride)
    {
        JsonObject state;
        try { state = ApprovalStore.Load(token); }
        catch (ArgumentException e) { return Envelope.Error("error", e.Message); }

        var created = state["created_at"]?.GetValue<long>() ?? 0;
        var ttl = ttlOverride ?? state["ttl_secs"]?.GetValue<int>() ?? 3600;
        if (created + ttl < DateTimeOffset.UtcNow.ToUnixTimeSeconds())
        {
            ApprovalStore.Delete(token);
            return Envelope.Error("error", "resume token expired");
        }
        var scriptPath = state["script_path"]?.GetValue<string>() ?? "";
        byte[] script;
        try { script = File.ReadAllBytes(scriptPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Envelope.Error("error", $"cannot read script '{scriptPath}': {e.Message}");
        }
        if (ApprovalStore.Hash(script) != state["script_sha256"]?.GetValue<string>())
            return Envelope.Error("error", "the script changed since the approval was requested; run it again instead of resuming");

        var answers = (state["answers"] as JsonArray ?? []).Select(a => a?.GetValue<string>() ?? "no").Append(answer).ToList();
        var envelope = RunChild(scriptPath, answer, answers);
        ApprovalStore.Delete(token);
        return envelope;
    }

    static string RunChild(string scriptPath, string answer, List<string> answers)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath ?? "assay")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = false, // the script's logs and prints reach the user as they happen
        };
        foreach (var a in new[] { "run", "--mode", "tool", scriptPath }) psi.ArgumentList.Add(a);
        psi.Environment["ASSAY_MODE"] = "tool";
        psi.Environment["ASSAY_APPROVAL_RESULT"] = answer;
        psi.Environment["ASSAY_APPROVALS"] = new JsonArray(answers.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()).ToJsonString();
        psi.Environment["ASSAY_STATE_DIR"] = ApprovalStore.StateDir();
        using var child = Process.Start(psi)!;
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return output.Length > 0 ? output : Envelope.Error("error", $"the resumed script exited with code {child.ExitCode} and no result");
    }
}
