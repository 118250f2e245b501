using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Assay.Engine.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Assay.Engine.Tests.Auth;

/// <summary>Auth modes and every refusal, against a real OIDC/JWKS server on 127.0.0.1.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    TestOidcServer _oidc = null!;
    RSA _key = null!;
    RunningEngine _engine = null!; // combined: JWT (audience "assay") + API keys
    readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow); // _engine's clock: the JWKS refresh interval passes when moved
    string _db = "";

    public async Task InitializeAsync()
    {
        _oidc = await TestOidcServer.StartAsync();
        _key = _oidc.Publish("test-key-1");
        _db = TestDatabases.NewSqliteFile();
        var o = Options(_db, apiKey: true, issuer: _oidc.Issuer, audience: "assay");
        o.TimeProvider = _time;
        _engine = await EngineHost.StartAsync(o);
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        await _oidc.DisposeAsync();
    }

    static EngineOptions Options(string db, bool apiKey, string? issuer, string? audience = null)
    {
        var o = EngineFixture.Options(db);
        o.AuthApiKey = apiKey;
        o.AuthIssuer = issuer;
        o.AuthAudience = audience;
        o.JwksMinRefreshInterval = TimeSpan.FromSeconds(1);
        return o;
    }

    static async Task<(int Code, string Body)> GetAsync(string baseUrl, string path, string? token = null, string scheme = "Bearer")
    {
        using var http = new HttpClient();
        using var req = new HttpRequestMessage(HttpMethod.Get, baseUrl + path);
        if (token is not null) req.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);
        using var res = await http.SendAsync(req);
        return ((int)res.StatusCode, await res.Content.ReadAsStringAsync());
    }

    static async Task<(int Code, string Body)> SendAsync(string baseUrl, HttpMethod method, string path, string? token, JsonObject? body = null)
    {
        using var http = new HttpClient();
        using var req = new HttpRequestMessage(method, baseUrl + path);
        if (token is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) req.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var res = await http.SendAsync(req);
        return ((int)res.StatusCode, await res.Content.ReadAsStringAsync());
    }

    static string ErrorOf(string body) => JsonNode.Parse(body)!["error"].Str();

    async Task Refused(string? token, string messagePart, string path = "/api/v1/workflows")
    {
        var (code, body) = await GetAsync(_engine.BaseUrl, path, token);
        Assert.True(code == 401, $"{path} with {token?[..Math.Min(20, token.Length)]}: {code} {body}");
        Assert.Contains(messagePart, ErrorOf(body));
    }

    [Fact]
    public async Task Anonymous_routes_stay_open_and_everything_else_needs_a_credential()
    {
        Assert.Equal(200, (await GetAsync(_engine.BaseUrl, "/api/v1/health")).Code);
        Assert.Equal(200, (await GetAsync(_engine.BaseUrl, "/api/v1/version")).Code);
        Assert.NotEqual(401, (await GetAsync(_engine.BaseUrl, "/api/v1/openapi.json")).Code);
        Assert.NotEqual(401, (await GetAsync(_engine.BaseUrl, "/workflow/")).Code);
        foreach (var path in new[] { "/api/v1/workflows", "/api/v1/namespaces", "/api/v1/schedules", "/api/v1/api-keys", "/metrics",
                     "/api/v1/events/stream", "/api/v1/no-such-route" })
            await Refused(null, "Missing Authorization: Bearer <token>", path);
        var (code, body) = await GetAsync(_engine.BaseUrl, "/api/v1/workflows", "user:pass", "Basic");
        Assert.Equal(401, code);
        Assert.Contains("Missing Authorization", ErrorOf(body));
        (code, _) = await SendAsync(_engine.BaseUrl, HttpMethod.Post, "/api/v1/workflows", null, O(("workflow_type", "T"), ("workflow_id", "x")));
        Assert.Equal(401, code);
    }

    [Fact]
    public async Task A_valid_JWT_passes_and_every_faulty_one_is_refused()
    {
        string Jwt(JsonObject claims, string? kid = "test-key-1", RSA? key = null, string alg = "RS256") =>
            TestOidcServer.Sign(key ?? _key, kid, claims, alg);

        Assert.Equal(200, (await GetAsync(_engine.BaseUrl, "/api/v1/workflows", Jwt(_oidc.Claims(aud: "assay")))).Code);
        Assert.Equal(200, (await GetAsync(_engine.BaseUrl, "/api/v1/workflows", Jwt(_oidc.Claims(aud: A("other", "assay"))))).Code);

        await Refused(Jwt(_oidc.Claims(expIn: -3600, aud: "assay")), "token expired");
        var veryOld = _oidc.Claims(aud: "assay");
        veryOld["exp"] = 1_000_000_000;
        await Refused(Jwt(veryOld), "token expired");
        await Refused(Jwt(_oidc.Claims(aud: "assay", iss: "https://auth.example.com")), "invalid issuer");
        await Refused(Jwt(_oidc.Claims(aud: "assay", iss: _oidc.Issuer + "/")), "invalid issuer");
        await Refused(Jwt(_oidc.Claims(aud: "wrong-app")), "invalid audience");
        await Refused(Jwt(_oidc.Claims()), "invalid audience");
        var noExp = _oidc.Claims(aud: "assay");
        noExp.Remove("exp");
        await Refused(Jwt(noExp), "missing exp");

        // Tampered: claims changed after signing.
        var good = Jwt(_oidc.Claims(aud: "assay"));
        var parts = good.Split('.');
        var forged = _oidc.Claims(aud: "assay");
        forged["sub"] = "admin";
        await Refused(parts[0] + "." + TestOidcServer.B64(Encoding.UTF8.GetBytes(forged.ToJsonString())) + "." + parts[2], "invalid signature");
        await Refused(parts[0] + "." + parts[1] + "." + TestOidcServer.B64(new byte[256]), "invalid signature");
        // Same kid, another key.
        await Refused(Jwt(_oidc.Claims(aud: "assay"), key: RSA.Create(2048)), "invalid signature");
        // Unknown kid.
        await Refused(Jwt(_oidc.Claims(aud: "assay"), kid: "nobody"), "key not found");
        // Algorithm from the key, not the token: "none" and HS256-with-the-public-key are refused.
        var header = TestOidcServer.B64(Encoding.UTF8.GetBytes("{\"alg\":\"none\",\"kid\":\"test-key-1\"}"));
        await Refused(header + "." + parts[1] + ".", "not allowed");
        var hsHeader = TestOidcServer.B64(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"kid\":\"test-key-1\"}"));
        var pub = Encoding.ASCII.GetBytes(_key.ExportSubjectPublicKeyInfoPem());
        var hsSig = HMACSHA256.HashData(pub, Encoding.ASCII.GetBytes(hsHeader + "." + parts[1]));
        await Refused(hsHeader + "." + parts[1] + "." + TestOidcServer.B64(hsSig), "not allowed");
        // A JWT is judged as a JWT only: an expired one is not retried as an API key.
        await Refused(Jwt(_oidc.Claims(expIn: -3600, aud: "assay")), "JWT validation failed");
    }

    [Fact]
    public async Task Unknown_kids_refresh_the_JWKS_at_most_once_per_interval_and_rotated_keys_are_picked_up()
    {
        Assert.Equal(200, (await GetAsync(_engine.BaseUrl, "/api/v1/workflows", TestOidcServer.Sign(_key, "test-key-1", _oidc.Claims(aud: "assay")))).Code);
        _time.Advance(TimeSpan.FromSeconds(1.1)); // past the 1 s least refresh interval
        var before = _oidc.JwksHits;
        var stranger = RSA.Create(2048);
        for (var i = 0; i < 25; i++)
            await Refused(TestOidcServer.Sign(stranger, $"kid-{i}", _oidc.Claims(aud: "assay")), "key not found");
        Assert.InRange(_oidc.JwksHits - before, 1, 1); // 25 unknown kids, one fetch

        var rotated = _oidc.Publish("test-key-2");
        _time.Advance(TimeSpan.FromSeconds(1.1)); // past the 1 s least refresh interval
        Assert.Equal(200, (await GetAsync(_engine.BaseUrl, "/api/v1/workflows", TestOidcServer.Sign(rotated, "test-key-2", _oidc.Claims(aud: "assay")))).Code);
    }

    [Fact]
    public async Task Api_keys_created_listed_and_revoked_over_REST_and_offline()
    {
        var (first, rec) = await EngineAdmin.GenerateApiKeyAsync(EngineFixture.Options(_db), "bootstrap");
        Assert.Matches("^assay_[0-9a-f]{64}$", first);
        Assert.Equal(first[..14] + "...", rec.Prefix);
        Assert.Equal(200, (await GetAsync(_engine.BaseUrl, "/api/v1/workflows", first)).Code);

        var (code, body) = await SendAsync(_engine.BaseUrl, HttpMethod.Post, "/api/v1/api-keys", first, O(("label", "ci")));
        Assert.Equal(201, code);
        var created = JsonNode.Parse(body)!.AsObject();
        var second = created["key"].Str();
        Assert.Equal("ci", created["label"].Str());
        Assert.Equal(second[..14] + "...", created["prefix"].Str());
        Assert.Equal(200, (await GetAsync(_engine.BaseUrl, "/api/v1/namespaces", second)).Code);

        (code, body) = await GetAsync(_engine.BaseUrl, "/api/v1/api-keys", second);
        Assert.Equal(200, code);
        Assert.DoesNotContain(second, body);
        Assert.DoesNotContain(first, body);
        Assert.DoesNotContain("\"key\"", body);
        var list = JsonNode.Parse(body)!.AsArray();
        Assert.Contains(list, k => k!["label"]?.GetValue<string>() == "bootstrap");
        Assert.Contains(list, k => k!["label"]?.GetValue<string>() == "ci");
        Assert.Contains((await EngineAdmin.ListApiKeysAsync(EngineFixture.Options(_db))), k => k.Prefix == created["prefix"].Str());

        // The database holds only hashes.
        await using (var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_db}"))
        {
            await conn.OpenAsync();
            var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT group_concat(key_hash || prefix || coalesce(label, ''), ',') FROM api_keys";
            var all = (string)(await cmd.ExecuteScalarAsync())!;
            Assert.DoesNotContain(second[6..], all);
        }

        // Revocation (with or without the dots).
        (code, _) = await SendAsync(_engine.BaseUrl, HttpMethod.Delete, "/api/v1/api-keys/" + second[..14], first);
        Assert.Equal(200, code);
        await Refused(second, "Invalid API key");
        (code, _) = await SendAsync(_engine.BaseUrl, HttpMethod.Delete, "/api/v1/api-keys/" + second[..14] + "...", first);
        Assert.Equal(404, code);
        (code, body) = await GetAsync(_engine.BaseUrl, "/api/v1/api-keys", first);
        Assert.True(JsonNode.Parse(body)!.AsArray().Single(k => k!["label"]?.GetValue<string>() == "ci")!["revoked_at"]!.GetValue<double>() > 0);
        await EngineAdmin.RevokeApiKeyAsync(EngineFixture.Options(_db), first);
        await Refused(first, "Invalid API key");

        await Refused("assay_" + new string('0', 64), "Invalid API key");
        await Refused("not-a-key", "Invalid API key");
    }

    [Fact]
    public async Task Single_modes_refuse_the_other_kind_of_token()
    {
        await using (var keysOnly = await EngineHost.StartAsync(Options(TestDatabases.NewSqliteFile(), apiKey: true, issuer: null)))
        {
            var (code, body) = await GetAsync(keysOnly.BaseUrl, "/api/v1/workflows", TestOidcServer.Sign(_key, "test-key-1", _oidc.Claims()));
            Assert.Equal(401, code);
            Assert.Equal("JWT authentication is not enabled on this server", ErrorOf(body));
            Assert.Equal(200, (await GetAsync(keysOnly.BaseUrl, "/api/v1/health")).Code);
        }
        await using var jwtOnly = await EngineHost.StartAsync(Options(TestDatabases.NewSqliteFile(), apiKey: false, issuer: _oidc.Issuer));
        var (c2, b2) = await GetAsync(jwtOnly.BaseUrl, "/api/v1/workflows", "assay_" + new string('1', 64));
        Assert.Equal(401, c2);
        Assert.Equal("Token is not a valid JWT and API-key authentication is not enabled", ErrorOf(b2));
        // No audience configured: any aud passes.
        Assert.Equal(200, (await GetAsync(jwtOnly.BaseUrl, "/api/v1/workflows", TestOidcServer.Sign(_key, "test-key-1", _oidc.Claims(aud: "whatever")))).Code);
    }
}
