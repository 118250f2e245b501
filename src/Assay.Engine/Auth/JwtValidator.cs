using System.Security.Cryptography;

namespace Assay.Engine.Auth;

/// <summary>
/// Validates bearer JWTs against an OIDC issuer: discovery (<c>&lt;issuer&gt;/.well-known/openid-configuration</c>)
/// gives the JWKS URI; keys are cached for 5 minutes. The accepted algorithm comes from the key
/// (its <c>alg</c>, else its type and curve: RSA → RS*/PS*, EC P-256 → ES256 …), never from the token
/// alone, so <c>none</c> and HMAC-with-the-public-key tricks fail. A token with an unknown
/// <c>kid</c> triggers a JWKS refresh at most once per <see cref="MinRefreshInterval"/> (an attacker
/// cannot make us hammer the identity provider). <c>iss</c> must equal the issuer exactly,
/// <c>exp</c> is required, <c>nbf</c> honoured (60 s leeway), <c>aud</c> checked when configured.
/// Parsing uses JsonDocument and System.Security.Cryptography only (NativeAOT-clean).
/// </summary>
public sealed class JwtValidator : IDisposable
{
    readonly string _issuer;
    readonly string? _audience;
    readonly HttpClient _http;
    readonly ILogger? _log;
    readonly SemaphoreSlim _fetch = new(1, 1);
    readonly TimeProvider _time;
    volatile Jwks? _jwks;
    DateTimeOffset _lastFetch = DateTimeOffset.MinValue;

    public TimeSpan CacheFor { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan MinRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan Leeway { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How many times the JWKS document was fetched (tests, metrics).</summary>
    public int JwksFetches => _fetches;
    int _fetches;

    /// <param name="time">Clock for expiry checks and the JWKS cache (the system clock when null).</param>
    public JwtValidator(string issuer, string? audience, ILogger? log = null, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _issuer = issuer;
        _audience = string.IsNullOrEmpty(audience) ? null : audience;
        _log = log;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
    }

    public string Issuer => _issuer;

    /// <summary>True when the token's first segment decodes to a JWS header (a JSON object with "alg").</summary>
    public static bool LooksLikeJwt(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) return false;
        try
        {
            using var doc = JsonDocument.Parse(B64(parts[0]));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("alg", out _);
        }
        catch (Exception e) when (e is FormatException or JsonException) { return false; }
    }

    /// <summary>Null when valid; otherwise the reason.</summary>
    public async Task<string?> ValidateAsync(string token, CancellationToken ct = default)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) return "malformed token";
        string alg;
        string? kid;
        byte[] signature;
        JsonDocument payload;
        try
        {
            using (var header = JsonDocument.Parse(B64(parts[0])))
            {
                var h = header.RootElement;
                alg = h.TryGetProperty("alg", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "";
                kid = h.TryGetProperty("kid", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            }
            signature = B64(parts[2]);
            payload = JsonDocument.Parse(B64(parts[1]));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return "malformed token";
        }
        using (payload)
        {
            if (payload.RootElement.ValueKind != JsonValueKind.Object) return "malformed token";
            var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);

            var keys = await KeysForAsync(kid, ct);
            if (keys.Count == 0) return kid is null ? "no suitable key" : "key not found";
            var candidates = keys.Where(k => k.Algorithms.Contains(alg)).ToList();
            if (candidates.Count == 0) return $"algorithm {(alg.Length == 0 ? "(none)" : alg)} is not allowed for this key";
            if (!candidates.Any(k => k.Verify(alg, signed, signature))) return "invalid signature";

            return CheckClaims(payload.RootElement);
        }
    }

    string? CheckClaims(JsonElement claims)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (!claims.TryGetProperty("iss", out var iss) || iss.ValueKind != JsonValueKind.String || iss.GetString() != _issuer)
            return "invalid issuer";
        if (!claims.TryGetProperty("exp", out var exp) || exp.ValueKind != JsonValueKind.Number) return "missing exp";
        if (now > exp.GetDouble() + Leeway.TotalSeconds) return "token expired";
        if (claims.TryGetProperty("nbf", out var nbf) && nbf.ValueKind == JsonValueKind.Number && now + Leeway.TotalSeconds < nbf.GetDouble())
            return "token not yet valid";
        if (_audience is not null)
        {
            var ok = claims.TryGetProperty("aud", out var aud) && aud.ValueKind switch
            {
                JsonValueKind.String => aud.GetString() == _audience,
                JsonValueKind.Array => aud.EnumerateArray().Any(x => x.ValueKind == JsonValueKind.String && x.GetString() == _audience),
                _ => false,
            };
            if (!ok) return "invalid audience";
        }
        return null;
    }

    async Task<List<Jwk>> KeysForAsync(string? kid, CancellationToken ct)
    {
        var jwks = _jwks;
        if (jwks is null || _time.GetUtcNow() - jwks.FetchedAt > CacheFor)
            jwks = await RefreshAsync(force: false, ct) ?? jwks;
        if (jwks is null) return [];
        if (kid is null) return jwks.Keys;
        var found = jwks.Keys.Where(k => k.Kid == kid).ToList();
        if (found.Count > 0) return found;
        // Unknown kid: maybe the provider rotated keys. Refresh, but not more often than MinRefreshInterval.
        jwks = await RefreshAsync(force: true, ct) ?? jwks;
        return jwks.Keys.Where(k => k.Kid == kid).ToList();
    }

    async Task<Jwks?> RefreshAsync(bool force, CancellationToken ct)
    {
        await _fetch.WaitAsync(ct);
        try
        {
            var current = _jwks;
            if (_time.GetUtcNow() - _lastFetch < MinRefreshInterval) return current; // bounded: at most one fetch per interval
            if (!force && current is not null && _time.GetUtcNow() - current.FetchedAt <= CacheFor) return current;
            _lastFetch = _time.GetUtcNow();
            Interlocked.Increment(ref _fetches);
            var discovery = _issuer.TrimEnd('/') + "/.well-known/openid-configuration";
            string jwksUri;
            using (var d = JsonDocument.Parse(await _http.GetStringAsync(discovery, ct)))
                jwksUri = d.RootElement.TryGetProperty("jwks_uri", out var u) && u.ValueKind == JsonValueKind.String
                    ? u.GetString()!
                    : throw new InvalidOperationException("discovery document has no jwks_uri");
            using var doc = JsonDocument.Parse(await _http.GetStringAsync(jwksUri, ct));
            var keys = new List<Jwk>();
            if (doc.RootElement.TryGetProperty("keys", out var arr) && arr.ValueKind == JsonValueKind.Array)
                foreach (var k in arr.EnumerateArray())
                    if (Jwk.TryParse(k) is { } jwk) keys.Add(jwk);
            var fresh = new Jwks(keys, _time.GetUtcNow());
            _jwks = fresh;
            return fresh;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or InvalidOperationException or FormatException)
        {
            _log?.LogWarning("Could not fetch the JWKS of {Issuer}: {Message}", _issuer, e.Message);
            return _jwks;
        }
        finally
        {
            _fetch.Release();
        }
    }

    static byte[] B64(string s)
    {
        var t = s.Replace('-', '+').Replace('_', '/');
        t += (t.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => throw new FormatException("bad base64url") };
        return Convert.FromBase64String(t);
    }

    public void Dispose()
    {
        _http.Dispose();
        _fetch.Dispose();
    }

    sealed record Jwks(List<Jwk> Keys, DateTimeOffset FetchedAt);

    sealed class Jwk
    {
        public string? Kid { get; private init; }
        public required HashSet<string> Algorithms { get; init; }
        RSA? _rsa;
        ECDsa? _ec;

        public static Jwk? TryParse(JsonElement k)
        {
            try
            {
                string? S(string n) => k.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                if (S("use") is { } use && use != "sig") return null;
                var kty = S("kty");
                var alg = S("alg");
                if (kty == "RSA" && S("n") is { } n && S("e") is { } e)
                {
                    var rsa = RSA.Create();
                    rsa.ImportParameters(new RSAParameters { Modulus = B64(n), Exponent = B64(e) });
                    HashSet<string> rsaAlgs = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
                    if (alg is not null && !rsaAlgs.Contains(alg)) return null;
                    return new Jwk { Kid = S("kid"), _rsa = rsa, Algorithms = alg is null ? rsaAlgs : [alg] };
                }
                if (kty == "EC" && S("x") is { } x && S("y") is { } y)
                {
                    var (curve, ecAlg) = S("crv") switch
                    {
                        "P-256" => (ECCurve.NamedCurves.nistP256, "ES256"),
                        "P-384" => (ECCurve.NamedCurves.nistP384, "ES384"),
                        "P-521" => (ECCurve.NamedCurves.nistP521, "ES512"),
                        _ => (default(ECCurve), ""),
                    };
                    if (ecAlg.Length == 0 || (alg is not null && alg != ecAlg)) return null;
                    var ec = ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = B64(x), Y = B64(y) } });
                    return new Jwk { Kid = S("kid"), _ec = ec, Algorithms = [ecAlg] };
                }
            }
            catch (Exception e) when (e is CryptographicException or FormatException) { }
            return null; // symmetric keys (oct) are never accepted
        }

        public bool Verify(string alg, byte[] data, byte[] sig)
        {
            var hash = alg[2..] switch
            {
                "256" => HashAlgorithmName.SHA256,
                "384" => HashAlgorithmName.SHA384,
                "512" => HashAlgorithmName.SHA512,
                _ => default,
            };
            if (hash == default) return false;
            try
            {
                if (_rsa is not null)
                    return _rsa.VerifyData(data, sig, hash, alg.StartsWith("PS") ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
                if (_ec is not null)
                    return _ec.VerifyData(data, sig, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }
            catch (CryptographicException) { }
            return false;
        }
    }
}
