using System.Security.Cryptography;

namespace Assay.Engine.Auth;

/// <summary>API keys: <c>assay_</c> + 64 lowercase hex (32 random bytes). Only the SHA-256 of a key is
/// stored; the plaintext is shown once. The display prefix is <c>assay_&lt;first 8 hex&gt;...</c>.</summary>
public static class ApiKeys
{
    public static string Generate() => "assay_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string Prefix(string key) => key.Length >= 14 ? key[..14] + "..." : key + "...";

    /// <summary>Accepts a prefix with or without the trailing dots, or a whole key.</summary>
    public static string NormalizePrefix(string prefix)
    {
        var p = prefix.TrimEnd('.');
        return (p.Length > 14 ? p[..14] : p) + "...";
    }

    /// <summary>Constant-time equality of two hex hashes.</summary>
    public static bool SameHash(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
