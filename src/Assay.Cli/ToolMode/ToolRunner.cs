using Assay.Lua;
using Assay.Lua.Values;
using Assay.Runtime;

namespace Assay.Cli.ToolMode;

/// <summary>
/// `assay run --mode tool FILE` (or ASSAY_MODE=tool): for AI agents. Prints exactly one JSON
/// envelope on stdout and exits 0 whatever happens; the script's print/io.write go to stderr;
/// `--timeout` interrupts even a busy loop; approval gates pause the run (see ApprovalStore).
/// </summary>
public static class ToolRunner
{
    const string ApprovalMarker = "__assay_approval_request__:";
    const int DefaultTtlSecs = 3600;

    public static int Run(string path, double timeoutSecs, GlobalSettings settings)
    {
        Console.Out.Write(Evaluate(path, timeoutSecs, settings));
        Console.Out.Flush();
        return 0;
    }

    static string Evaluate(string path, double timeoutSecs, GlobalSettings settings)
    {
        byte[] source;
        try { source = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Envelope.Error("error", $"cannot read script '{path}': {e.Message}");
        }
        var original = (byte[])source.Clone();
        ScriptRunner.BlankShebang(source);

        using var runtime = new AssayRuntime(settings.CreateRuntimeOptions()) { ApprovalGatesHalt = true };
        // stdout belongs to the envelope
        runtime.Vm.Execute("print = function(...) local n = select('#', ...) local t = {...} " +
                           "for i = 1, n do t[i] = tostring(t[i]) end io.stderr:write(table.concat(t, '\\t', 1, n), '\\n') end " +
                           "io.output(io.stderr)", "=[assay tool]");
        LuaVm.SetEnvironmentVariable("ASSAY_MODE", "tool");

        string timeoutReason = $"execution timed out after {timeoutSecs:0.###}s";
        using var timer = new Timer(_ => runtime.Vm.Interrupt(timeoutReason), null,
            TimeSpan.FromSeconds(Math.Max(0.001, timeoutSecs)), Timeout.InfiniteTimeSpan);
        byte[]? output = null;
        string? encodeError = null;
        Lua.Loop.LuaTask main;
        try
        {
            main = runtime.Vm.RunMain(source, "@" + path, [], default, (task, L) =>
            {
                if (!L.ToBoolean(1)) return;
                try { output = L.Top >= 2 ? JsonEncoder.Encode(L, 2) : "null"u8.ToArray(); }
                catch (Exception e) { encodeError = e.Message; }
            });
        }
        catch (LuaException e)
        {
            return Envelope.Error("error", e.Message);
        }
        // a gate halted the run (it came here as a value; the interrupt only stopped the script)
        if (runtime.PendingApproval is { } gate && runtime.Vm.InterruptReason == Assay.Runtime.Builtins.ToolModule.HaltReason)
            return Approval(path, original, gate.Prompt, gate.ContextJson);
        if (runtime.Vm.IsInterrupted)
            return runtime.Vm.InterruptReason == timeoutReason ? Envelope.Error("timeout", timeoutReason) : Envelope.Error("error", runtime.Vm.InterruptReason!);
        if (!main.Succeeded)
            return ApprovalOrError(path, original, main.ErrorReport ?? "unknown error");
        if (encodeError != null) return Envelope.Error("error", "cannot convert the script's result to JSON: " + encodeError);
        return Envelope.Success(output ?? "null"u8.ToArray());
    }

    /// <summary>The original's protocol: an error whose message carries the marker and the request's JSON.</summary>
    static string ApprovalOrError(string path, byte[] script, string report)
    {
        var message = report.Split("\nstack traceback:")[0];
        int at = message.IndexOf(ApprovalMarker, StringComparison.Ordinal);
        if (at < 0) return Envelope.Error("error", message);
        var payload = message[(at + ApprovalMarker.Length)..].Split('\n')[0];
        JsonNode? request;
        try { request = JsonNode.Parse(payload); }
        catch (System.Text.Json.JsonException e) { return Envelope.Error("error", "malformed approval request: " + e.Message); }
        return Approval(path, script, request?["prompt"]?.ToString() ?? "", request?["context"]?.ToJsonString() ?? "null");
    }

    /// <summary>Saves the gate under a new resume token and builds the needs_approval envelope.</summary>
    static string Approval(string path, byte[] script, string prompt, string contextJson)
    {
        JsonNode? context;
        try { context = JsonNode.Parse(contextJson); }
        catch (System.Text.Json.JsonException e) { return Envelope.Error("error", "malformed approval context: " + e.Message); }
        try
        {
            var token = ApprovalStore.Save(path, script, prompt, context, ApprovalStore.AnswersFromEnvironment(), DefaultTtlSecs);
            return Envelope.NeedsApproval(prompt, Encoding.UTF8.GetBytes(context?.ToJsonString() ?? "null"), token);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return Envelope.Error("error", "cannot save the approval state: " + e.Message);
        }
    }
}
