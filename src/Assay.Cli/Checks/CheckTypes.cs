using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Assay.Runtime;

namespace Assay.Cli.Checks;

/// <summary>The outcome of one attempt: passed or not, and what to tell the reader.</summary>
public readonly record struct Attempt(bool Passed, string? Message)
{
    public static Attempt Pass(string? message = null) => new(true, message);
    public static Attempt Fail(string message) => new(false, message);
}

/// <summary>The check types. Each attempt honours <paramref name="ct"/> (per-check and global timeouts).</summary>
public static class CheckTypes
{
    static readonly HttpClient Following = new(new SocketsHttpHandler { AllowAutoRedirect = true }) { Timeout = Timeout.InfiniteTimeSpan };
    static readonly HttpClient NotFollowing = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };

    public static Task<Attempt> RunAsync(CheckSpec spec, CheckConfig config, GlobalSettings settings, CancellationToken ct) => spec.Type switch
    {
        "http" => HttpAsync(spec, ct),
        "prometheus" => PrometheusAsync(spec, ct),
        "script" => ScriptAsync(spec, config, settings, ct),
        "tcp" => TcpAsync(spec, ct),
        _ => DnsAsync(spec, ct),
    };

    static async Task<Attempt> HttpAsync(CheckSpec spec, CancellationToken ct)
    {
        var method = new HttpMethod(spec.Fields.GetValueOrDefault("method", "GET").ToUpperInvariant());
        using var request = new HttpRequestMessage(method, spec.Fields["url"]);
        foreach (var (k, v) in spec.Headers)
            if (!request.Headers.TryAddWithoutValidation(k, v)) (request.Content ??= new ByteArrayContent([])).Headers.TryAddWithoutValidation(k, v);
        if (spec.Fields.TryGetValue("body", out var body))
        {
            var content = new StringContent(body, Encoding.UTF8);
            if (request.Content != null) foreach (var h in request.Content.Headers) content.Headers.TryAddWithoutValidation(h.Key, h.Value);
            request.Content = content;
        }
        var client = spec.Fields.GetValueOrDefault("follow_redirects", "true") == "false" ? NotFollowing : Following;
        using var response = await client.SendAsync(request, ct);
        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync(ct);
        var expect = spec.Expect ?? new Dictionary<string, string>();
        if (expect.TryGetValue("status", out var want))
        {
            if (want != status.ToString(CultureInfo.InvariantCulture)) return Attempt.Fail($"expected status {want}, got {status}");
        }
        else if (status is < 200 or >= 300) return Attempt.Fail($"expected 2xx, got {status}");
        if (expect.TryGetValue("body", out var contains) && !text.Contains(contains, StringComparison.Ordinal))
            return Attempt.Fail($"body does not contain \"{contains}\"");
        if (expect.TryGetValue("json", out var expression) && JsonExpectation.Check(expression, text) is { } why)
            return Attempt.Fail(why);
        return Attempt.Pass($"status {status}");
    }

    static async Task<Attempt> PrometheusAsync(CheckSpec spec, CancellationToken ct)
    {
        var url = spec.Fields["url"].TrimEnd('/') + "/api/v1/query?query=" + Uri.EscapeDataString(spec.Fields["query"]);
        var text = await Following.GetStringAsync(url, ct);
        JsonNode? doc;
        try { doc = JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return Attempt.Fail("Prometheus answered with something that is not JSON"); }
        if (doc?["status"]?.GetValue<string>() != "success")
            return Attempt.Fail("Prometheus query failed: " + (doc?["error"]?.ToString() ?? "unknown error"));
        var first = (doc?["data"]?["result"] as JsonArray)?.FirstOrDefault();
        if (first?["value"] is not JsonArray { Count: 2 } pair) return Attempt.Fail("Prometheus query returned no results");
        if (!double.TryParse(pair[1]?.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            return Attempt.Fail($"Prometheus value is not a number: {pair[1]}");
        var expect = spec.Expect ?? new Dictionary<string, string>();
        if (expect.TryGetValue("min", out var min) && value < double.Parse(min, CultureInfo.InvariantCulture))
            return Attempt.Fail($"expected min {min}, got {Fmt(value)}");
        if (expect.TryGetValue("max", out var max) && value > double.Parse(max, CultureInfo.InvariantCulture))
            return Attempt.Fail($"expected max {max}, got {Fmt(value)}");
        return Attempt.Pass($"query returned: {Fmt(value)}");
    }

    static string Fmt(double d) => d.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A fresh runtime per attempt on its own thread; a timeout interrupts even a busy loop.</summary>
    static Task<Attempt> ScriptAsync(CheckSpec spec, CheckConfig config, GlobalSettings settings, CancellationToken ct) =>
        Task.Factory.StartNew(() =>
        {
            var candidates = ScriptCandidates(spec.Fields["file"], config.BaseDir);
            var path = candidates.FirstOrDefault(File.Exists);
            if (path == null) return Attempt.Fail($"script not found: {string.Join(", ", candidates.Select(c => $"'{c}'"))}");
            byte[] source;
            try { source = File.ReadAllBytes(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Attempt.Fail($"cannot read script '{path}': {e.Message}"); }
            ScriptRunner.BlankShebang(source);
            var options = settings.CreateRuntimeOptions();
            options.EnvironmentOverlay = spec.Env;
            using var runtime = new AssayRuntime(options);
            using var stop = ct.Register(() => runtime.Vm.Interrupt("check timed out"));
            try
            {
                var task = runtime.Vm.RunMain(source, "@" + path);
                if (runtime.Vm.IsInterrupted) return Attempt.Fail(runtime.Vm.InterruptReason!);
                return task.Succeeded ? Attempt.Pass() : Attempt.Fail(Assay.Lua.LuaErrors.CleanTraceback(task.ErrorReport ?? "script failed"));
            }
            catch (Assay.Lua.LuaException e) { return Attempt.Fail(e.Message); }
        }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// Where a check's `file:` may be: beside the YAML file first, then (as the original Assay
    /// resolved it) from the working directory, so check files written for it keep working.
    /// </summary>
    static List<string> ScriptCandidates(string file, string baseDir)
    {
        if (Path.IsPathRooted(file)) return [file];
        var candidates = new List<string> { Path.GetFullPath(Path.Combine(baseDir, file)) };
        var fromCwd = Path.GetFullPath(file);
        if (fromCwd != candidates[0]) candidates.Add(fromCwd);
        return candidates;
    }

    static async Task<Attempt> TcpAsync(CheckSpec spec, CancellationToken ct)
    {
        if (!int.TryParse(spec.Fields["port"], out var port) || port is < 1 or > 65535) return Attempt.Fail($"invalid port '{spec.Fields["port"]}'");
        var sw = Stopwatch.StartNew();
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(spec.Fields["host"], port, ct);
            return Attempt.Pass($"connected in {sw.ElapsedMilliseconds} ms");
        }
        catch (SocketException e) { return Attempt.Fail($"cannot connect to {spec.Fields["host"]}:{port}: {e.Message}"); }
    }

    static async Task<Attempt> DnsAsync(CheckSpec spec, CancellationToken ct)
    {
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(spec.Fields["host"], ct);
            if (addresses.Length == 0) return Attempt.Fail($"{spec.Fields["host"]} has no addresses");
            var list = string.Join(", ", addresses.Select(a => a.ToString()));
            if (spec.Expect?.TryGetValue("address", out var want) == true && !addresses.Any(a => a.ToString() == want))
                return Attempt.Fail($"expected address {want}, got {list}");
            return Attempt.Pass(list);
        }
        catch (SocketException e) { return Attempt.Fail($"cannot resolve {spec.Fields["host"]}: {e.Message}"); }
    }
}
