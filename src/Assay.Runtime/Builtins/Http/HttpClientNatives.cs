using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Assay.Runtime.Builtins.Http;

/// <summary>A finished request: status, headers in arrival order, and the body or an SSE stream.</summary>
internal sealed record HttpResult(int Status, List<(string Name, string Value)> Headers, byte[]? Body, SseReader? Sse);

/// <summary>
/// Client natives behind prelude/http.lua. <c>request(method, url, headers, body, timeout,
/// connect_timeout, follow_redirects, client_id, stream)</c> — the prelude has already normalised
/// the arguments (JSON/form bodies, query strings, defaults of client objects).
/// </summary>
internal static class HttpClientNatives
{
    const double DefaultTimeoutSeconds = 30;
    const int MaxRedirects = 10;

    public static int Request(LuaCall call, WebState st)
    {
        var L = call.L;
        var method = (call.OptString(1) ?? "GET").ToUpperInvariant();
        if (L.TypeOf(2) != LuaType.String) return call.Fail("first argument must be a URL string");
        var url = L.ToStringValue(2)!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            return call.Fail($"invalid URL '{url}' (expected http:// or https://)");
        if (method.Length == 0 || method.Any(c => c <= ' ' || c >= 127))
            return call.Fail($"invalid method '{method}'");

        var msg = new HttpRequestMessage(new HttpMethod(method), uri);
        if (L.TypeOf(4) == LuaType.String)
        {
            var body = L.ToBytes(4);
            if (body.Length > 0) msg.Content = new ByteArrayContent(body.ToArray());
        }
        if (L.TypeOf(3) == LuaType.Table)
        {
            var problem = AddHeaders(L, 3, msg);
            if (problem != null)
            {
                msg.Dispose();
                return call.Fail(problem);
            }
        }
        if (!msg.Headers.Contains("User-Agent")) msg.Headers.TryAddWithoutValidation("User-Agent", AssayVersion.UserAgent);
        var total = ReadSeconds(L, 5, DefaultTimeoutSeconds);
        var connect = ReadSeconds(L, 6, HttpClients.DefaultConnectTimeout.TotalSeconds);
        if (total == null || connect == null)
        {
            msg.Dispose();
            return call.Fail("timeout must be a positive number of seconds");
        }
        msg.Options.Set(HttpClients.ConnectTimeoutKey, connect.Value);
        bool follow = L.IsNoneOrNil(7) || L.ToBoolean(7);
        var invoker = HttpClients.Default;
        if (L.TryGetInteger(8, out long clientId) && clientId != 0)
        {
            if (st.Get<HttpMessageInvoker>(clientId) is not { } custom)
            {
                msg.Dispose();
                return call.Fail("this http.client was closed");
            }
            invoker = custom;
        }
        bool stream = L.ToBoolean(9);
        var task = SendAsync(invoker, msg, total.Value, follow, stream, call.Vm.Cancellation, call.Vm.Loop.CurrentTaskCancellation);
        return call.Await(task, (L, r) => PushResult(L, st, r));
    }

    /// <summary>nil → fallback; a number of seconds (math.huge or 0 → no limit); else null (invalid).</summary>
    static TimeSpan? ReadSeconds(LuaState L, int idx, double fallback)
    {
        double s = fallback;
        if (!L.IsNoneOrNil(idx))
        {
            if (L.TypeOf(idx) != LuaType.Number) return null;
            s = L.ToNumber(idx);
        }
        if (double.IsNaN(s) || s < 0) return null;
        if (s == 0 || double.IsInfinity(s) || s > int.MaxValue / 1000.0) return Timeout.InfiniteTimeSpan;
        return TimeSpan.FromSeconds(s);
    }

    /// <summary>headers: name → string|number or name → array of them (one header line each).</summary>
    static string? AddHeaders(LuaState L, int idx, HttpRequestMessage msg)
    {
        L.CheckStack(6);
        L.PushNil();
        while (L.Next(idx))
        {
            if (L.TypeOf(-2) != LuaType.String) { L.Pop(2); return "header names must be strings"; }
            var name = L.ToStringValue(-2)!;
            if (!HeaderRules.IsValidName(name)) { L.Pop(2); return $"invalid header name '{name}'"; }
            if (L.TypeOf(-1) == LuaType.Table)
            {
                int arr = L.AbsIndex(-1);
                for (long i = 1; L.RawGetIndex(arr, i) != LuaType.Nil; i++)
                {
                    var v = HeaderValue(L, -1);
                    L.Pop(1);
                    var problem = AddHeader(msg, name, v);
                    if (problem != null) { L.Pop(3); return problem; }
                }
                L.Pop(1);
            }
            else
            {
                var problem = AddHeader(msg, name, HeaderValue(L, -1));
                if (problem != null) { L.Pop(2); return problem; }
            }
            L.Pop(1);
        }
        return null;
    }

    /// <summary>
    /// A header value as the bytes the script gave, one char per byte: the handlers encode header
    /// values as Latin-1, so non-ASCII bytes (a UTF-8 key in S3's x-amz-copy-source) go out as they are.
    /// </summary>
    static string? HeaderValue(LuaState L, int idx) =>
        L.TypeOf(idx) == LuaType.String ? System.Text.Encoding.Latin1.GetString(L.ToBytes(idx)) : L.ToStringValue(idx);

    static string? AddHeader(HttpRequestMessage msg, string name, string? value)
    {
        if (value == null) return $"header '{name}' must be a string or a number";
        if (!HeaderRules.IsValidValue(value)) return $"invalid value for header '{name}' (control characters such as CR/LF are not allowed)";
        if (msg.Headers.TryAddWithoutValidation(name, value)) return null;
        msg.Content ??= new ByteArrayContent([]);
        if (msg.Content.Headers.TryAddWithoutValidation(name, value)) return null;
        return $"header '{name}' cannot be set";
    }

    static async Task<HttpResult> SendAsync(HttpMessageInvoker invoker, HttpRequestMessage msg, TimeSpan total, bool follow,
        bool stream, CancellationToken vmToken, CancellationToken taskToken)
    {
        // The task's token: cancelling the Lua task (async handle cancel()) aborts its request, closing the connection.
        var cts = CancellationTokenSource.CreateLinkedTokenSource(vmToken, taskToken);
        if (total != Timeout.InfiniteTimeSpan) cts.CancelAfter(total);
        bool handedOff = false;
        HttpResponseMessage? resp = null;
        try
        {
            for (int redirects = 0; ; redirects++)
            {
                resp = await invoker.SendAsync(msg, cts.Token).ConfigureAwait(false);
                if (!follow || redirects >= MaxRedirects || resp.Headers.Location is not { } location || !IsRedirect(resp.StatusCode)) break;
                var next = NextRequest(msg, resp.StatusCode, new Uri(msg.RequestUri!, location));
                resp.Dispose();
                resp = null;
                msg = next;
            }
            var headers = new List<(string, string)>();
            foreach (var h in resp.Headers.NonValidated)
                foreach (var v in h.Value) headers.Add((h.Key.ToLowerInvariant(), v));
            foreach (var h in resp.Content.Headers.NonValidated)
                foreach (var v in h.Value) headers.Add((h.Key.ToLowerInvariant(), v));
            if (stream && resp.Content.Headers.ContentType?.MediaType is { } mt &&
                mt.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                cts.CancelAfter(Timeout.InfiniteTimeSpan); // a stream lives as long as it likes
                var body = await resp.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
                handedOff = true;
                return new HttpResult((int)resp.StatusCode, headers, null, new SseReader(resp, body, cts));
            }
            var bytes = await resp.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            return new HttpResult((int)resp.StatusCode, headers, bytes, null);
        }
        catch (OperationCanceledException) when (!vmToken.IsCancellationRequested && !taskToken.IsCancellationRequested)
        {
            throw new TimeoutException($"request to {msg.RequestUri} timed out after {HttpClients.Seconds(total)} s");
        }
        catch (HttpRequestException e) when (e.InnerException != null)
        {
            // "An error occurred while sending the request." alone hides the cause (TLS, reset, refused)
            var causes = new List<string>();
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (!e.Message.Contains(inner.Message, StringComparison.Ordinal) && !causes.Contains(inner.Message)) causes.Add(inner.Message);
            if (causes.Count == 0) throw;
            throw new HttpRequestException(e.Message.TrimEnd('.') + ": " + string.Join(": ", causes), e);
        }
        finally
        {
            if (!handedOff)
            {
                resp?.Dispose();
                msg.Dispose();
                cts.Dispose();
            }
        }
    }

    static bool IsRedirect(HttpStatusCode code) => (int)code is 301 or 302 or 303 or 307 or 308;

    /// <summary>The follow-up request of a redirect, as browsers and curl do it.</summary>
    static HttpRequestMessage NextRequest(HttpRequestMessage prev, HttpStatusCode code, Uri target)
    {
        var method = prev.Method;
        bool keepBody = (int)code is 307 or 308;
        if (!keepBody && method != HttpMethod.Head) method = HttpMethod.Get;
        var next = new HttpRequestMessage(method, target);
        bool sameOrigin = Uri.Compare(prev.RequestUri, target, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
        foreach (var h in prev.Headers.NonValidated)
        {
            if (!sameOrigin && (h.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) ||
                                h.Key.Equals("Cookie", StringComparison.OrdinalIgnoreCase))) continue;
            foreach (var v in h.Value) next.Headers.TryAddWithoutValidation(h.Key, v);
        }
        if (keepBody && prev.Content != null) next.Content = prev.Content;
        if (prev.Options.TryGetValue(HttpClients.ConnectTimeoutKey, out var t)) next.Options.Set(HttpClients.ConnectTimeoutKey, t);
        return next;
    }

    static int PushResult(LuaState L, WebState st, HttpResult r)
    {
        L.CheckStack(10);
        L.NewTable(0, 5);
        L.PushInteger(r.Status);
        L.RawSetField(-2, "status");
        if (r.Body != null)
        {
            L.PushBytes(r.Body);
            L.RawSetField(-2, "body");
        }
        PushHeaders(L, r.Headers);
        L.RawSetField(-3, "headers_all");
        L.RawSetField(-2, "headers");
        L.RawGetField(LuaState.RegistryIndex, WebState.ResponseMtKey);
        L.SetMetatable(-2);
        if (r.Sse == null) return 1;
        L.PushInteger(st.Add(r.Sse));
        return 2;
    }

    /// <summary>Pushes two tables: name → value (repeats joined with ", ", Set-Cookie: the last) and name → {values…}.</summary>
    internal static void PushHeaders(LuaState L, List<(string Name, string Value)> headers)
    {
        var grouped = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (name, value) in headers)
        {
            if (!grouped.TryGetValue(name, out var list)) { grouped[name] = list = []; order.Add(name); }
            list.Add(value);
        }
        L.CheckStack(6);
        L.NewTable(0, order.Count);
        foreach (var name in order)
        {
            var values = grouped[name];
            L.PushString(values.Count == 1 ? values[0] : name == "set-cookie" ? values[^1] : string.Join(", ", values));
            L.RawSetField(-2, name);
        }
        L.NewTable(0, order.Count);
        foreach (var name in order)
        {
            var values = grouped[name];
            L.NewTable(values.Count, 0);
            for (int i = 0; i < values.Count; i++)
            {
                L.PushString(values[i]);
                L.RawSetIndex(-2, i + 1);
            }
            L.RawSetField(-2, name);
        }
    }

    public static int SseNext(LuaCall call, WebState st)
    {
        var reader = st.Get<SseReader>(call.CheckInteger(1));
        if (reader == null) { call.L.PushNil(); return 1; }
        return call.Await(reader.NextAsync(), static (L, e) =>
        {
            if (e == null) { L.PushNil(); return 1; }
            L.CheckStack(4);
            L.NewTable(0, 4);
            L.PushString(e.Data);
            L.RawSetField(-2, "data");
            if (e.Event != null) { L.PushString(e.Event); L.RawSetField(-2, "event"); }
            if (e.Id != null) { L.PushString(e.Id); L.RawSetField(-2, "id"); }
            if (e.Retry is { } r) { L.PushInteger(r); L.RawSetField(-2, "retry"); }
            return 1;
        });
    }

    public static int SseClose(LuaCall call, WebState st)
    {
        st.Free<SseReader>(call.CheckInteger(1));
        return 0;
    }

    /// <summary>
    /// client_new(ca_cert_pem, ca_cert_file, insecure, client_cert_pem, client_key_pem,
    /// client_cert_file, client_key_file) → id of a client with its own pool.
    /// </summary>
    public static int ClientNew(LuaCall call, WebState st)
    {
        if (ReadPem(call, 1, 2, "CA cert", out var pem) is { } caError) return caError;
        if (ReadPem(call, 4, 6, "client cert", out var certPem) is { } certError) return certError;
        if (ReadPem(call, 5, 7, "client key", out var keyPem) is { } keyError) return keyError;
        if ((certPem == null) != (keyPem == null))
            return call.Fail("client_cert and client_key must be given together");
        X509Certificate2? clientCert = null;
        try
        {
            if (certPem != null) clientCert = X509Certificate2.CreateFromPem(certPem, keyPem);
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            return call.Fail($"invalid client certificate or key PEM ({e.Message})");
        }
        try
        {
            call.L.PushInteger(st.Add(HttpClients.Create(new ClientTls(pem, call.L.ToBoolean(3), clientCert))));
            return 1;
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            return call.Fail($"invalid CA cert PEM ({e.Message})");
        }
    }

    /// <summary>A PEM given inline (argument <paramref name="inline"/>) and/or as a file path (argument <paramref name="file"/>).</summary>
    static int? ReadPem(LuaCall call, int inline, int file, string what, out string? pem)
    {
        pem = call.OptString(inline);
        var path = call.OptString(file);
        if (path == null) return null;
        try { pem = (pem == null ? "" : pem + "\n") + File.ReadAllText(path, Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return call.Fail($"failed to read {what} file '{path}': {e.Message}");
        }
        return null;
    }

    public static int ClientFree(LuaCall call, WebState st)
    {
        st.Free<HttpMessageInvoker>(call.CheckInteger(1));
        return 0;
    }
}

/// <summary>RFC 9110 header syntax, checked before anything reaches the wire.</summary>
internal static class HeaderRules
{
    public static bool IsValidName(string name)
    {
        if (name.Length == 0) return false;
        foreach (var c in name)
            if (c > 126 || c <= 32 || "\"(),/:;<=>?@[\\]{}".Contains(c)) return false;
        return true;
    }

    /// <summary>No control characters except TAB (so no CR/LF header injection), no DEL.</summary>
    public static bool IsValidValue(string value)
    {
        foreach (var c in value)
            if ((c < 32 && c != '\t') || c == 127) return false;
        return true;
    }
}
