using System.Security.Cryptography;
using System.Text.Json;
using Assay.Runtime.Builtins.Crypto;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>crypto.hash/hmac/random/random_bytes/uuid</c> and JWT: <c>jwt_sign</c>, <c>jwt_verify</c>
/// (allow-list, exp/nbf with leeway, issuer, audience, JWKS) and <c>jwt_decode</c> (unverified).
/// Digests live in Crypto/Digests.cs, JWS in Crypto/Jwt.cs. Reference page: docs/modules/crypto.md.
/// </summary>
public static class CryptoModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("crypto",
            ("hash", Hash),
            ("hmac", Hmac),
            ("random", Random),
            ("random_bytes", RandomBytes),
            ("uuid", Uuid),
            ("jwt_sign", JwtSign),
            ("jwt_verify", JwtVerify),
            ("jwt_decode", JwtDecode));
    }

    static string Algorithm(LuaCall call, int arg)
    {
        var name = call.OptString(arg, "sha256")!;
        return Digests.Normalize(name)
            ?? throw new BuiltinError($"unknown algorithm '{name}' (supported: {string.Join(", ", Digests.Names)})");
    }

    static int Hash(LuaCall call)
    {
        var data = call.CheckBytes(1);
        var alg = Algorithm(call, 2);
        var digest = Digests.Hash(alg, data);
        switch (call.OptString(3, "hex"))
        {
            case "hex": call.L.PushString(Convert.ToHexStringLower(digest)); break;
            case "base64": call.L.PushString(Convert.ToBase64String(digest)); break;
            case "raw": call.L.PushBytes(digest); break;
            case var other: return call.Fail($"unknown output encoding '{other}' (hex, base64 or raw)");
        }
        return 1;
    }

    static int Hmac(LuaCall call)
    {
        var key = call.CheckBytes(1).ToArray();
        var data = call.CheckBytes(2);
        var alg = Algorithm(call, 3);
        var mac = Digests.Hmac(alg, key, data);
        if (call.OptBoolean(4, false)) call.L.PushBytes(mac);
        else call.L.PushString(Convert.ToHexStringLower(mac));
        return 1;
    }

    const long MaxRandom = 1 << 24;

    static int CheckLength(LuaCall call, long fallback)
    {
        long n = call.OptInteger(1, fallback);
        if (n <= 0) throw new BuiltinError($"length must be positive, got {n}");
        if (n > MaxRandom) throw new BuiltinError($"length too large ({n} > {MaxRandom})");
        return (int)n;
    }

    static int Random(LuaCall call)
    {
        int n = CheckLength(call, 32);
        call.L.PushString(RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", n));
        return 1;
    }

    static int RandomBytes(LuaCall call)
    {
        int n = CheckLength(call, 32);
        call.L.PushBytes(RandomNumberGenerator.GetBytes(n));
        return 1;
    }

    static int Uuid(LuaCall call)
    {
        var version = call.OptString(1, "v4");
        var guid = version switch
        {
            "v4" or "4" => Guid.NewGuid(),
            "v7" or "7" => Guid.CreateVersion7(),
            _ => throw new BuiltinError($"unknown version '{version}' (v4 or v7)"),
        };
        call.L.PushString(guid.ToString("D"));
        return 1;
    }

    // ------------------------------------------------------------------ JWT

    /// <summary>crypto.jwt_sign(claims, key, alg?, opts?) → compact token.</summary>
    static int JwtSign(LuaCall call)
    {
        var L = call.L;
        L.CheckStack(8);
        call.CheckTable(1, "claims table");
        call.CheckType(2, LuaType.String, "HMAC secret or PEM key");
        var options = call.Options(4, ["kid", "expires_in", "header"]);
        string? askedAlg = null;
        if (!L.IsNoneOrNil(3))
        {
            askedAlg = call.CheckString(3).ToUpperInvariant();
            if (Array.IndexOf(Jwt.Algorithms, askedAlg) < 0)
                return call.Fail($"unsupported algorithm '{call.CheckString(3)}' (supported: {string.Join(", ", Jwt.Algorithms)})");
        }
        var keyBytes = L.ToBytes(2).ToArray();
        var keyText = Encoding.UTF8.GetString(keyBytes);
        // An HMAC secret is used only when HS* is asked for by name: a file path or a typo passed
        // as the key must not silently become a shared secret.
        bool hmac = askedAlg != null && askedAlg.StartsWith("HS");
        if (!hmac && !keyText.Contains("-----BEGIN "))
            return call.Fail("invalid PEM key (pass a PEM private key, or alg = \"HS256\"/\"HS384\"/\"HS512\" to sign with a shared secret)");
        using var key = hmac ? new JwtKey { Secret = keyBytes } : JwtKey.FromPem(keyText);
        string alg = askedAlg ?? (key.Rsa != null ? "RS256" : key.Ec!.KeySize switch { 384 => "ES384", 521 => "ES512", _ => "ES256" });

        byte[] claimsJson;
        try { claimsJson = JsonEncoder.Encode(L, 1); }
        catch (LuaValueException e) { e.Prefix = "claims: "; return call.Fail(e.Message); }
        if (claimsJson.AsSpan().SequenceEqual("[]"u8)) claimsJson = "{}"u8.ToArray();
        if (claimsJson[0] != '{') return call.Fail("claims must be a table with string keys (a JSON object), not a list");

        string? kid = options.String("kid");
        long? expiresIn = options.Integer("expires_in", min: 1);
        byte[]? extraHeader = null;
        if (options.Push("header") == LuaType.Table)
        {
            try { extraHeader = JsonEncoder.Encode(L, -1); }
            catch (LuaValueException e) { e.Prefix = "header: "; return call.Fail(e.Message); }
        }
        L.Pop(1);

        var header = new MemoryStream();
        using (var extra = extraHeader != null && extraHeader[0] == '{' ? JsonDocument.Parse(extraHeader) : null)
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteString("alg", alg);
            // header = {typ = "at+jwt", cty = ..., x5t = ...}: extra fields; alg and kid come from the arguments
            if (extra == null || !extra.RootElement.TryGetProperty("typ", out _)) w.WriteString("typ", "JWT");
            if (kid != null) w.WriteString("kid", kid);
            if (extra != null)
                foreach (var p in extra.RootElement.EnumerateObject())
                    if (p.Name is not ("alg" or "kid")) p.WriteTo(w);
            w.WriteEndObject();
        }
        if (expiresIn is long secsValid)
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var rewritten = new MemoryStream();
            using (var doc = JsonDocument.Parse(claimsJson))
            using (var w = new Utf8JsonWriter(rewritten))
            {
                w.WriteStartObject();
                bool hasIat = false;
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Name == "exp") continue;
                    if (p.Name == "iat") hasIat = true;
                    p.WriteTo(w);
                }
                if (!hasIat) w.WriteNumber("iat", now);
                w.WriteNumber("exp", now + secsValid);
                w.WriteEndObject();
            }
            claimsJson = rewritten.ToArray();
        }
        var signingInput = Base64Codec.EncodeUrlString(header.ToArray()) + "." + Base64Codec.EncodeUrlString(claimsJson);
        var signature = Jwt.Sign(alg, key, Encoding.ASCII.GetBytes(signingInput));
        L.PushString(signingInput + "." + Base64Codec.EncodeUrlString(signature));
        return 1;
    }

    /// <summary>crypto.jwt_decode(token) → {header, claims, signature, verified = false}.</summary>
    static int JwtDecode(LuaCall call)
    {
        var L = call.L;
        var token = call.CheckString(1);
        // decode never verifies, so the signature segment is returned as it is, undecoded
        var (header, payload, signature) = Jwt.SplitUnverified(token);
        Jwt.ParseJson(header, "header").Dispose();
        Jwt.ParseJson(payload, "claims").Dispose();
        L.CheckStack(6);
        L.NewTable(0, 4);
        JsonDecoder.Push(L, header);
        L.RawSetField(-2, "header");
        JsonDecoder.Push(L, payload);
        L.RawSetField(-2, "claims");
        L.PushString(signature);
        L.RawSetField(-2, "signature");
        L.PushBoolean(false);
        L.RawSetField(-2, "verified");
        return 1;
    }

    /// <summary>crypto.jwt_verify(token, key_or_jwks, opts?) → claims, header; raises on any failure.</summary>
    static int JwtVerify(LuaCall call)
    {
        var token = call.CheckString(1);
        var options = call.Options(3, ["algorithms", "issuer", "audience", "verify_exp", "verify_nbf", "leeway", "now"]);
        var L = call.L;
        L.CheckStack(8);
        var keys = ReadKeys(call);
        try
        {
            var (headerBytes, payload, signature, signingInput) = Jwt.Split(token);
            using var header = Jwt.ParseJson(headerBytes, "header");
            var root = header.RootElement;
            if (!root.TryGetProperty("alg", out var algEl) || algEl.ValueKind != JsonValueKind.String)
                return call.Fail("header has no 'alg'");
            var alg = algEl.GetString()!;
            if (Array.IndexOf(Jwt.Algorithms, alg) < 0)
                return call.Fail($"unsupported algorithm '{alg}'" + (alg.Equals("none", StringComparison.OrdinalIgnoreCase) ? " (unsigned tokens are never accepted)" : ""));

            var allowed = ReadStringList(L, options, "algorithms");
            if (allowed != null && !allowed.Contains(alg))
                return call.Fail($"algorithm {alg} is not allowed (allowed: {string.Join(", ", allowed)})");

            string? kid = root.TryGetProperty("kid", out var kidEl) && kidEl.ValueKind == JsonValueKind.String ? kidEl.GetString() : null;
            IEnumerable<JwtKey> candidates = keys;
            if (kid != null && keys.Any(k => k.Kid != null))
            {
                candidates = keys.Where(k => k.Kid == kid).ToList();
                if (!candidates.Any()) return call.Fail($"no key with kid '{kid}' in the key set");
            }
            var fitting = candidates.Where(k => k.Fits(alg)).ToList();
            if (fitting.Count == 0)
                return call.Fail($"algorithm {alg} does not fit the given key ({string.Join(", ", candidates.Select(k => k.Kind).Distinct())})");
            if (!fitting.Any(k => Jwt.Verify(alg, k, signingInput, signature)))
                return call.Fail("invalid signature");

            using var claims = Jwt.ParseJson(payload, "claims");
            CheckClaims(L, options, claims.RootElement);
            JsonDecoder.Push(L, payload);
            JsonDecoder.Push(L, headerBytes);
            return 2;
        }
        finally
        {
            foreach (var k in keys) k.Dispose();
        }
    }

    static void CheckClaims(LuaState L, LuaOptions options, JsonElement claims)
    {
        bool verifyExp = options.Flag("verify_exp", fallback: true), verifyNbf = options.Flag("verify_nbf", fallback: true);
        double leeway = options.Number("leeway", min: 0) ?? 0;
        double now = options.Number("now") ?? (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        double? NumberClaim(string name)
        {
            if (!claims.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.Number) throw new BuiltinError($"claim '{name}' must be a number");
            return v.GetDouble();
        }
        if (verifyExp && NumberClaim("exp") is double exp && now > exp + leeway)
            throw new BuiltinError($"token expired (exp {exp:0} is {now - exp:0} s in the past)");
        if (verifyNbf && NumberClaim("nbf") is double nbf && now + leeway < nbf)
            throw new BuiltinError($"token not yet valid (nbf {nbf:0} is {nbf - now:0} s in the future)");

        var issuers = ReadStringList(L, options, "issuer");
        if (issuers != null)
        {
            string? iss = claims.TryGetProperty("iss", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            if (iss == null) throw new BuiltinError($"token has no 'iss' claim (expected {string.Join(" or ", issuers)})");
            if (!issuers.Contains(iss)) throw new BuiltinError($"issuer '{iss}' is not accepted");
        }
        var audiences = ReadStringList(L, options, "audience");
        var tokenAud = new List<string>();
        if (claims.TryGetProperty("aud", out var aud))
        {
            if (aud.ValueKind == JsonValueKind.String) tokenAud.Add(aud.GetString()!);
            else if (aud.ValueKind == JsonValueKind.Array)
                foreach (var a in aud.EnumerateArray())
                    if (a.ValueKind == JsonValueKind.String) tokenAud.Add(a.GetString()!);
        }
        if (audiences != null)
        {
            if (tokenAud.Count == 0) throw new BuiltinError($"token has no 'aud' claim (expected {string.Join(" or ", audiences)})");
            if (!tokenAud.Any(audiences.Contains)) throw new BuiltinError($"audience {string.Join(", ", tokenAud)} is not accepted");
        }
        else if (tokenAud.Count > 0)
            throw new BuiltinError($"token is meant for audience {string.Join(", ", tokenAud)}; pass opts.audience to accept it");
    }

    /// <summary>opts[field] as a list of strings (a single string counts as a list of one).</summary>
    static List<string>? ReadStringList(LuaState L, LuaOptions options, string field)
    {
        var result = new List<string>();
        var t = options.Push(field);
        try
        {
            if (t == LuaType.Nil) return null;
            if (t == LuaType.String) { result.Add(L.ToStringValue(-1)!); return result; }
            if (t != LuaType.Table) throw new BuiltinError($"option '{field}' must be a string or a list of strings");
            long n = (long)L.RawLength(-1);
            for (long i = 1; i <= n; i++)
            {
                if (L.RawGetIndex(-1, i) != LuaType.String)
                    throw new BuiltinError($"option '{field}' must be a string or a list of strings");
                result.Add(L.ToStringValue(-1)!);
                L.Pop(1);
            }
            return result;
        }
        finally { L.Pop(1); }
    }

    /// <summary>
    /// Argument 2 as keys: an HMAC secret, a PEM key or certificate, JWKS JSON text, or a JWK /
    /// JWKS table ({keys = {...}}).
    /// </summary>
    static List<JwtKey> ReadKeys(LuaCall call)
    {
        var L = call.L;
        byte[] json;
        switch (L.TypeOf(2))
        {
            case LuaType.String:
            {
                var bytes = L.ToBytes(2).ToArray();
                var text = Encoding.UTF8.GetString(bytes);
                if (text.Contains("-----BEGIN ")) return [JwtKey.FromPem(text)];
                if (!text.TrimStart().StartsWith('{')) return [new JwtKey { Secret = bytes }];
                json = bytes;
                break;
            }
            case LuaType.Table:
                try { json = JsonEncoder.Encode(L, 2); }
                catch (LuaValueException e) { e.Prefix = "key set: "; throw new BuiltinError(e.Message); }
                break;
            default:
                throw call.TypeError(2, "secret, PEM key or JWK/JWKS");
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new BuiltinError($"invalid JWKS JSON ({e.Message})"); }
        using (doc)
        {
            var keys = new List<JwtKey>();
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("keys", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var jwk in list.EnumerateArray())
                    if (jwk.ValueKind == JsonValueKind.Object && JwtKey.FromJwk(jwk) is { } k) keys.Add(k);
            }
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("kty", out _))
            {
                if (JwtKey.FromJwk(root) is { } k) keys.Add(k);
            }
            else throw new BuiltinError("second argument is neither a JWK nor a JWKS ({keys = {...}})");
            if (keys.Count == 0) throw new BuiltinError("the key set holds no usable signing key");
            return keys;
        }
    }
}
