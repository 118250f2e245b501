using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Assay.Lua;
using Assay.Lua.Values;
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
            ?? throw new LuaException($"{call.Name}: unknown algorithm '{name}' (supported: {string.Join(", ", Digests.Names)})");
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
            case var other: return call.Error($"crypto.hash: unknown output encoding '{other}' (hex, base64 or raw)");
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
        if (n <= 0) throw new LuaException($"{call.Name}: length must be positive, got {n}");
        if (n > MaxRandom) throw new LuaException($"{call.Name}: length too large ({n} > {MaxRandom})");
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
            _ => throw new LuaException($"crypto.uuid: unknown version '{version}' (v4 or v7)"),
        };
        call.L.PushString(guid.ToString("D"));
        return 1;
    }

    // ------------------------------------------------------------------ JWT

    static string? OptField(LuaState L, int table, string field)
    {
        if (L.IsNoneOrNil(table)) return null;
        var t = L.RawGetField(table, field);
        string? value = t == LuaType.Nil ? null : L.ToStringValue(-1)
            ?? throw new LuaException($"option '{field}' must be a string");
        L.Pop(1);
        return value;
    }

    /// <summary>crypto.jwt_sign(claims, key, alg?, opts?) → compact token.</summary>
    static int JwtSign(LuaCall call)
    {
        const string fn = "crypto.jwt_sign";
        var L = call.L;
        L.CheckStack(8);
        if (L.TypeOf(1) != LuaType.Table) return call.Error($"{fn}: first argument must be a claims table, got {call.TypeName(1)}");
        if (L.TypeOf(2) != LuaType.String) return call.Error($"{fn}: second argument must be a key string (HMAC secret or PEM key), got {call.TypeName(2)}");
        if (!L.IsNoneOrNil(4) && L.TypeOf(4) != LuaType.Table) return call.Error($"{fn}: fourth argument must be an options table, got {call.TypeName(4)}");
        string? askedAlg = null;
        if (!L.IsNoneOrNil(3))
        {
            askedAlg = call.CheckString(3).ToUpperInvariant();
            if (Array.IndexOf(Jwt.Algorithms, askedAlg) < 0)
                return call.Error($"{fn}: unsupported algorithm '{call.CheckString(3)}' (supported: {string.Join(", ", Jwt.Algorithms)})");
        }
        var keyBytes = L.ToBytes(2).ToArray();
        var keyText = Encoding.UTF8.GetString(keyBytes);
        // An HMAC secret is used only when HS* is asked for by name: a file path or a typo passed
        // as the key must not silently become a shared secret.
        bool hmac = askedAlg != null && askedAlg.StartsWith("HS");
        if (!hmac && !keyText.Contains("-----BEGIN "))
            return call.Error($"{fn}: invalid PEM key (pass a PEM private key, or alg = \"HS256\"/\"HS384\"/\"HS512\" to sign with a shared secret)");
        using var key = hmac ? new JwtKey { Secret = keyBytes } : JwtKey.FromPem(keyText, fn);
        string alg = askedAlg ?? (key.Rsa != null ? "RS256" : key.Ec!.KeySize switch { 384 => "ES384", 521 => "ES512", _ => "ES256" });

        byte[] claimsJson;
        try { claimsJson = JsonEncoder.Encode(L, 1); }
        catch (LuaValueException e) { e.Prefix = fn + ": claims: "; return call.Error(e.Message); }
        if (claimsJson.AsSpan().SequenceEqual("[]"u8)) claimsJson = "{}"u8.ToArray();
        if (claimsJson[0] != '{') return call.Error($"{fn}: claims must be a table with string keys (a JSON object), not a list");

        long? expiresIn = null;
        string? kid = null;
        byte[]? extraHeader = null;
        if (L.TypeOf(4) == LuaType.Table)
        {
            try { kid = OptField(L, 4, "kid"); }
            catch (LuaException e) { return call.Error($"{fn}: {e.Message}"); }
            if (L.RawGetField(4, "expires_in") != LuaType.Nil)
            {
                if (!L.TryGetInteger(-1, out var secs) || secs <= 0) return call.Error($"{fn}: option 'expires_in' must be a positive integer (seconds)");
                expiresIn = secs;
            }
            L.Pop(1);
            if (L.RawGetField(4, "header") == LuaType.Table)
            {
                try { extraHeader = JsonEncoder.Encode(L, -1); }
                catch (LuaValueException e) { e.Prefix = fn + ": header: "; return call.Error(e.Message); }
            }
            L.Pop(1);
        }

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
        var signature = Jwt.Sign(alg, key, Encoding.ASCII.GetBytes(signingInput), fn);
        L.PushString(signingInput + "." + Base64Codec.EncodeUrlString(signature));
        return 1;
    }

    /// <summary>crypto.jwt_decode(token) → {header, claims, signature, verified = false}.</summary>
    static int JwtDecode(LuaCall call)
    {
        const string fn = "crypto.jwt_decode";
        var L = call.L;
        var token = call.CheckString(1);
        // decode never verifies, so the signature segment is returned as it is, undecoded
        var (header, payload, signature) = Jwt.SplitUnverified(token, fn);
        Jwt.ParseJson(header, "header", fn).Dispose();
        Jwt.ParseJson(payload, "claims", fn).Dispose();
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
        const string fn = "crypto.jwt_verify";
        var L = call.L;
        L.CheckStack(8);
        var token = call.CheckString(1);
        if (!L.IsNoneOrNil(3) && L.TypeOf(3) != LuaType.Table) return call.Error($"{fn}: third argument must be an options table, got {call.TypeName(3)}");
        var keys = ReadKeys(call, fn);
        try
        {
            var (headerBytes, payload, signature, signingInput) = Jwt.Split(token, fn);
            using var header = Jwt.ParseJson(headerBytes, "header", fn);
            var root = header.RootElement;
            if (!root.TryGetProperty("alg", out var algEl) || algEl.ValueKind != JsonValueKind.String)
                return call.Error($"{fn}: header has no 'alg'");
            var alg = algEl.GetString()!;
            if (Array.IndexOf(Jwt.Algorithms, alg) < 0)
                return call.Error($"{fn}: unsupported algorithm '{alg}'" + (alg.Equals("none", StringComparison.OrdinalIgnoreCase) ? " (unsigned tokens are never accepted)" : ""));

            var allowed = ReadStringList(L, 3, "algorithms", fn);
            if (allowed != null && !allowed.Contains(alg))
                return call.Error($"{fn}: algorithm {alg} is not allowed (allowed: {string.Join(", ", allowed)})");

            string? kid = root.TryGetProperty("kid", out var kidEl) && kidEl.ValueKind == JsonValueKind.String ? kidEl.GetString() : null;
            IEnumerable<JwtKey> candidates = keys;
            if (kid != null && keys.Any(k => k.Kid != null))
            {
                candidates = keys.Where(k => k.Kid == kid).ToList();
                if (!candidates.Any()) return call.Error($"{fn}: no key with kid '{kid}' in the key set");
            }
            var fitting = candidates.Where(k => k.Fits(alg)).ToList();
            if (fitting.Count == 0)
                return call.Error($"{fn}: algorithm {alg} does not fit the given key ({string.Join(", ", candidates.Select(k => k.Kind).Distinct())})");
            if (!fitting.Any(k => Jwt.Verify(alg, k, signingInput, signature)))
                return call.Error($"{fn}: invalid signature");

            using var claims = Jwt.ParseJson(payload, "claims", fn);
            CheckClaims(L, claims.RootElement, fn);
            JsonDecoder.Push(L, payload);
            JsonDecoder.Push(L, headerBytes);
            return 2;
        }
        finally
        {
            foreach (var k in keys) k.Dispose();
        }
    }

    static void CheckClaims(LuaState L, JsonElement claims, string fn)
    {
        bool verifyExp = true, verifyNbf = true;
        double leeway = 0;
        double now = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        if (L.TypeOf(3) == LuaType.Table)
        {
            if (L.RawGetField(3, "verify_exp") != LuaType.Nil) verifyExp = L.ToBoolean(-1);
            L.Pop(1);
            if (L.RawGetField(3, "verify_nbf") != LuaType.Nil) verifyNbf = L.ToBoolean(-1);
            L.Pop(1);
            if (L.RawGetField(3, "leeway") != LuaType.Nil)
            {
                if (L.TypeOf(-1) != LuaType.Number || L.ToNumber(-1) < 0) throw new LuaException($"{fn}: option 'leeway' must be a number of seconds >= 0");
                leeway = L.ToNumber(-1);
            }
            L.Pop(1);
            if (L.RawGetField(3, "now") != LuaType.Nil)
            {
                if (L.TypeOf(-1) != LuaType.Number) throw new LuaException($"{fn}: option 'now' must be a number (epoch seconds)");
                now = L.ToNumber(-1);
            }
            L.Pop(1);
        }
        double? NumberClaim(string name)
        {
            if (!claims.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.Number) throw new LuaException($"{fn}: claim '{name}' must be a number");
            return v.GetDouble();
        }
        if (verifyExp && NumberClaim("exp") is double exp && now > exp + leeway)
            throw new LuaException($"{fn}: token expired (exp {exp:0} is {now - exp:0} s in the past)");
        if (verifyNbf && NumberClaim("nbf") is double nbf && now + leeway < nbf)
            throw new LuaException($"{fn}: token not yet valid (nbf {nbf:0} is {nbf - now:0} s in the future)");

        var issuers = ReadStringList(L, 3, "issuer", fn);
        if (issuers != null)
        {
            string? iss = claims.TryGetProperty("iss", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            if (iss == null) throw new LuaException($"{fn}: token has no 'iss' claim (expected {string.Join(" or ", issuers)})");
            if (!issuers.Contains(iss)) throw new LuaException($"{fn}: issuer '{iss}' is not accepted");
        }
        var audiences = ReadStringList(L, 3, "audience", fn);
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
            if (tokenAud.Count == 0) throw new LuaException($"{fn}: token has no 'aud' claim (expected {string.Join(" or ", audiences)})");
            if (!tokenAud.Any(audiences.Contains)) throw new LuaException($"{fn}: audience {string.Join(", ", tokenAud)} is not accepted");
        }
        else if (tokenAud.Count > 0)
            throw new LuaException($"{fn}: token is meant for audience {string.Join(", ", tokenAud)}; pass opts.audience to accept it");
    }

    /// <summary>opts[field] as a list of strings (a single string counts as a list of one).</summary>
    static List<string>? ReadStringList(LuaState L, int opts, string field, string fn)
    {
        if (L.TypeOf(opts) != LuaType.Table) return null;
        var result = new List<string>();
        var t = L.RawGetField(opts, field);
        try
        {
            if (t == LuaType.Nil) return null;
            if (t == LuaType.String) { result.Add(L.ToStringValue(-1)!); return result; }
            if (t != LuaType.Table) throw new LuaException($"{fn}: option '{field}' must be a string or a list of strings");
            long n = (long)L.RawLength(-1);
            for (long i = 1; i <= n; i++)
            {
                if (L.RawGetIndex(-1, i) != LuaType.String)
                    throw new LuaException($"{fn}: option '{field}' must be a string or a list of strings");
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
    static List<JwtKey> ReadKeys(LuaCall call, string fn)
    {
        var L = call.L;
        byte[] json;
        switch (L.TypeOf(2))
        {
            case LuaType.String:
            {
                var bytes = L.ToBytes(2).ToArray();
                var text = Encoding.UTF8.GetString(bytes);
                if (text.Contains("-----BEGIN ")) return [JwtKey.FromPem(text, fn)];
                if (!text.TrimStart().StartsWith('{')) return [new JwtKey { Secret = bytes }];
                json = bytes;
                break;
            }
            case LuaType.Table:
                try { json = JsonEncoder.Encode(L, 2); }
                catch (LuaValueException e) { e.Prefix = fn + ": key set: "; throw; }
                break;
            default:
                throw new LuaException($"{fn}: second argument must be a key (secret, PEM) or a JWK/JWKS, got {call.TypeName(2)}");
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new LuaException($"{fn}: invalid JWKS JSON ({e.Message})"); }
        using (doc)
        {
            var keys = new List<JwtKey>();
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("keys", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var jwk in list.EnumerateArray())
                    if (jwk.ValueKind == JsonValueKind.Object && JwtKey.FromJwk(jwk, fn) is { } k) keys.Add(k);
            }
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("kty", out _))
            {
                if (JwtKey.FromJwk(root, fn) is { } k) keys.Add(k);
            }
            else throw new LuaException($"{fn}: second argument is neither a JWK nor a JWKS ({{keys = {{...}}}})");
            if (keys.Count == 0) throw new LuaException($"{fn}: the key set holds no usable signing key");
            return keys;
        }
    }
}
