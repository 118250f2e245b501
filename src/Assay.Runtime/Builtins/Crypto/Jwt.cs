using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Assay.Runtime.Builtins.Crypto;

/// <summary>A verification or signing key: an HMAC secret, an RSA key or an EC key.</summary>
public sealed class JwtKey : IDisposable
{
    public byte[]? Secret { get; init; }
    public RSA? Rsa { get; init; }
    public ECDsa? Ec { get; init; }
    public string? Kid { get; init; }
    /// <summary>The "alg" a JWK pins, if any.</summary>
    public string? Alg { get; init; }

    public string Kind => Secret != null ? "HMAC secret" : Rsa != null ? "RSA key" : "EC key";

    /// <summary>The algorithms this key may be used with (never HS* for an asymmetric key).</summary>
    public bool Fits(string alg)
    {
        if (Alg != null && Alg != alg) return false;
        if (Secret != null) return alg.StartsWith("HS");
        if (Rsa != null) return alg.StartsWith("RS") || alg.StartsWith("PS");
        if (Ec != null)
        {
            int bits = Ec.KeySize;
            return alg == (bits switch { 256 => "ES256", 384 => "ES384", 521 => "ES512", _ => "" });
        }
        return false;
    }

    public void Dispose()
    {
        Rsa?.Dispose();
        Ec?.Dispose();
    }

    /// <summary>A PEM text (private key, public key or certificate) as an RSA or EC key.</summary>
    public static JwtKey FromPem(string pem)
    {
        if (pem.Contains("ENCRYPTED PRIVATE KEY"))
            throw new BuiltinError($"encrypted PEM keys are not supported (decrypt it first)");
        if (pem.Contains("-----BEGIN CERTIFICATE-----"))
        {
            using var cert = X509Certificate2.CreateFromPem(pem);
            if (cert.GetRSAPublicKey() is { } certRsa) return new JwtKey { Rsa = certRsa };
            if (cert.GetECDsaPublicKey() is { } certEc) return new JwtKey { Ec = certEc };
            throw new BuiltinError($"the certificate holds neither an RSA nor an EC key");
        }
        bool ecLabel = pem.Contains("BEGIN EC PRIVATE KEY");
        bool rsaLabel = pem.Contains("BEGIN RSA ");
        Exception? rsaError = null;
        if (!ecLabel)
        {
            var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(pem);
                return new JwtKey { Rsa = rsa };
            }
            catch (Exception e) { rsa.Dispose(); rsaError = e; }
        }
        if (!rsaLabel)
        {
            var ec = ECDsa.Create();
            try
            {
                ec.ImportFromPem(pem);
                return new JwtKey { Ec = ec };
            }
            catch (Exception) { ec.Dispose(); }
        }
        throw new BuiltinError($"invalid PEM key: {rsaError?.Message ?? "not an RSA or EC key"}");
    }

    /// <summary>One JWK (RFC 7517) as a key; null for key types this module does not use.</summary>
    public static JwtKey? FromJwk(JsonElement jwk)
    {
        string? Str(string name) => jwk.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        byte[] B64(string name) => Jwt.DecodeSegment(Str(name) ?? throw new BuiltinError($"JWK is missing '{name}'"), $"JWK field '{name}'");
        if (Str("use") is { } use && use != "sig") return null;
        var kid = Str("kid");
        var alg = Str("alg");
        switch (Str("kty"))
        {
            case "oct":
                return new JwtKey { Secret = B64("k"), Kid = kid, Alg = alg };
            case "RSA":
            {
                var rsa = RSA.Create();
                rsa.ImportParameters(new RSAParameters { Modulus = B64("n"), Exponent = B64("e") });
                return new JwtKey { Rsa = rsa, Kid = kid, Alg = alg };
            }
            case "EC":
            {
                var curve = Str("crv") switch
                {
                    "P-256" => ECCurve.NamedCurves.nistP256,
                    "P-384" => ECCurve.NamedCurves.nistP384,
                    "P-521" => ECCurve.NamedCurves.nistP521,
                    var c => throw new BuiltinError($"unsupported JWK curve '{c}'"),
                };
                var ec = ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = B64("x"), Y = B64("y") } });
                return new JwtKey { Ec = ec, Kid = kid, Alg = alg };
            }
            default:
                return null;
        }
    }
}

/// <summary>Compact JWS (RFC 7515) signing and verification for crypto.jwt_sign / jwt_verify.</summary>
public static class Jwt
{
    public static readonly string[] Algorithms =
        ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    static HashAlgorithmName HashOf(string alg) => alg[2..] switch
    {
        "256" => HashAlgorithmName.SHA256,
        "384" => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    public static byte[] Sign(string alg, JwtKey key, byte[] signingInput)
    {
        if (!key.Fits(alg)) throw new BuiltinError($"algorithm {alg} does not fit the key ({key.Kind}{(key.Ec != null ? $", {key.Ec.KeySize} bits" : "")})");
        switch (alg[..2])
        {
            case "HS":
                return Digests.Hmac("sha" + alg[2..], key.Secret, signingInput);
            case "RS":
            case "PS":
                try
                {
                    return key.Rsa!.SignData(signingInput, HashOf(alg), alg[0] == 'R' ? RSASignaturePadding.Pkcs1 : RSASignaturePadding.Pss);
                }
                catch (CryptographicException e)
                {
                    throw new BuiltinError($"cannot sign with this RSA key (a private key is needed): {e.Message}");
                }
            default:
                try
                {
                    return key.Ec!.SignData(signingInput, HashOf(alg), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                }
                catch (CryptographicException e)
                {
                    throw new BuiltinError($"cannot sign with this EC key (a private key is needed): {e.Message}");
                }
        }
    }

    public static bool Verify(string alg, JwtKey key, byte[] signingInput, byte[] signature)
    {
        if (!key.Fits(alg)) return false;
        try
        {
            return alg[..2] switch
            {
                "HS" => CryptographicOperations.FixedTimeEquals(Digests.Hmac("sha" + alg[2..], key.Secret, signingInput), signature),
                "RS" => key.Rsa!.VerifyData(signingInput, signature, HashOf(alg), RSASignaturePadding.Pkcs1),
                "PS" => key.Rsa!.VerifyData(signingInput, signature, HashOf(alg), RSASignaturePadding.Pss),
                _ => key.Ec!.VerifyData(signingInput, signature, HashOf(alg), DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public static byte[] DecodeSegment(string segment, string what)
    {
        if (segment.Contains('=') || !Base64Codec.TryDecode(Encoding.ASCII.GetBytes(segment), url: true, out var bytes, out var problem))
            throw new BuiltinError($"{what}: invalid base64url{(segment.Contains('=') ? " (padding is not allowed)" : "")}");
        return bytes;
    }

    /// <summary>Splits a compact token into its three parts and decodes them.</summary>
    public static (byte[] Header, byte[] Payload, byte[] Signature, byte[] SigningInput) Split(string token)
    {
        var parts = ThreeParts(token);
        var header = DecodeSegment(parts[0], "header");
        var payload = DecodeSegment(parts[1], "payload");
        var signature = DecodeSegment(parts[2], "signature");
        return (header, payload, signature, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
    }

    /// <summary>Header and payload decoded; the signature segment left as text (decode never verifies).</summary>
    public static (byte[] Header, byte[] Payload, string Signature) SplitUnverified(string token)
    {
        var parts = ThreeParts(token);
        return (DecodeSegment(parts[0], "header"), DecodeSegment(parts[1], "payload"), parts[2]);
    }

    static string[] ThreeParts(string token)
    {
        var parts = token.Trim().Split('.');
        if (parts.Length != 3)
            throw new BuiltinError($"malformed token: expected three '.'-separated segments (header.payload.signature), found {parts.Length}");
        return parts;
    }

    public static JsonDocument ParseJson(byte[] bytes, string what)
    {
        try
        {
            var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new BuiltinError($"{what}: not a JSON object");
            }
            return doc;
        }
        catch (JsonException e)
        {
            throw new BuiltinError($"{what}: invalid JSON ({e.Message})");
        }
    }
}
