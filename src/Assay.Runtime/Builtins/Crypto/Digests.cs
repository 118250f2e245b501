using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace Assay.Runtime.Builtins.Crypto;

/// <summary>
/// The hash algorithms of crypto.hash/hmac. md5, sha1 and sha256/384/512 come from the BCL
/// (OpenSSL); sha224 and the SHA-3 family are implemented here (managed, no platform
/// dependency: .NET has no SHA-224 and no SHA3-224, and SHA-3 needs OpenSSL 1.1.1+).
/// </summary>
public static class Digests
{
    public static readonly string[] Names =
        ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3-224", "sha3-256", "sha3-384", "sha3-512"];

    public static string? Normalize(string name)
    {
        var n = name.ToLowerInvariant().Replace("_", "-");
        n = n switch { "sha-1" => "sha1", "sha-224" => "sha224", "sha-256" => "sha256", "sha-384" => "sha384", "sha-512" => "sha512", _ => n };
        return Array.IndexOf(Names, n) >= 0 ? n : null;
    }

    public static byte[] Hash(string alg, ReadOnlySpan<byte> data) => alg switch
    {
        "md5" => MD5.HashData(data),
        "sha1" => SHA1.HashData(data),
        "sha224" => Sha224.Hash(data),
        "sha256" => SHA256.HashData(data),
        "sha384" => SHA384.HashData(data),
        "sha512" => SHA512.HashData(data),
        "sha3-224" => Keccak.Sha3(data, 224),
        "sha3-256" => Keccak.Sha3(data, 256),
        "sha3-384" => Keccak.Sha3(data, 384),
        "sha3-512" => Keccak.Sha3(data, 512),
        _ => throw new ArgumentException("unknown algorithm " + alg),
    };

    static int BlockSize(string alg) => alg switch
    {
        "md5" or "sha1" or "sha224" or "sha256" => 64,
        "sha384" or "sha512" => 128,
        "sha3-224" => 144,
        "sha3-256" => 136,
        "sha3-384" => 104,
        "sha3-512" => 72,
        _ => throw new ArgumentException("unknown algorithm " + alg),
    };

    /// <summary>HMAC (RFC 2104) over any of the algorithms.</summary>
    public static byte[] Hmac(string alg, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data)
    {
        switch (alg)
        {
            case "md5": return HMACMD5.HashData(key, data);
            case "sha1": return HMACSHA1.HashData(key, data);
            case "sha256": return HMACSHA256.HashData(key, data);
            case "sha384": return HMACSHA384.HashData(key, data);
            case "sha512": return HMACSHA512.HashData(key, data);
        }
        int block = BlockSize(alg);
        var k0 = new byte[block];
        (key.Length > block ? Hash(alg, key) : key.ToArray()).CopyTo(k0, 0);
        var inner = new byte[block + data.Length];
        for (int i = 0; i < block; i++) inner[i] = (byte)(k0[i] ^ 0x36);
        data.CopyTo(inner.AsSpan(block));
        var innerHash = Hash(alg, inner);
        var outer = new byte[block + innerHash.Length];
        for (int i = 0; i < block; i++) outer[i] = (byte)(k0[i] ^ 0x5c);
        innerHash.CopyTo(outer, block);
        return Hash(alg, outer);
    }
}

/// <summary>SHA-224 (FIPS 180-4): SHA-256 with its own initial values, truncated to 28 bytes.</summary>
static class Sha224
{
    static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        Span<uint> h = [0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4];
        long bitLength = (long)data.Length * 8;
        int full = data.Length / 64;
        for (int i = 0; i < full; i++) Block(h, data.Slice(i * 64, 64));
        int rest = data.Length - full * 64;
        Span<byte> tail = stackalloc byte[128];
        tail.Clear();
        data[(full * 64)..].CopyTo(tail);
        tail[rest] = 0x80;
        int tailLen = rest + 1 + 8 <= 64 ? 64 : 128;
        BinaryPrimitives.WriteInt64BigEndian(tail.Slice(tailLen - 8), bitLength);
        for (int i = 0; i < tailLen; i += 64) Block(h, tail.Slice(i, 64));
        var output = new byte[28];
        for (int i = 0; i < 7; i++) BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(i * 4), h[i]);
        return output;
    }

    static void Block(Span<uint> h, ReadOnlySpan<byte> block)
    {
        Span<uint> w = stackalloc uint[64];
        for (int t = 0; t < 16; t++) w[t] = BinaryPrimitives.ReadUInt32BigEndian(block.Slice(t * 4));
        for (int t = 16; t < 64; t++)
        {
            uint s0 = BitOperations.RotateRight(w[t - 15], 7) ^ BitOperations.RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint s1 = BitOperations.RotateRight(w[t - 2], 17) ^ BitOperations.RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int t = 0; t < 64; t++)
        {
            uint S1 = BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25);
            uint ch = (e & f) ^ (~e & g);
            uint t1 = hh + S1 + ch + K[t] + w[t];
            uint S0 = BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22);
            uint maj = (a & b) ^ (a & c) ^ (b & c);
            uint t2 = S0 + maj;
            hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    }
}

/// <summary>SHA-3 (FIPS 202): Keccak-f[1600] sponge with domain byte 0x06.</summary>
static class Keccak
{
    static readonly ulong[] RC =
    [
        0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
        0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
        0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
        0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
        0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
        0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
    ];
    static readonly int[] Rot = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];

    public static byte[] Sha3(ReadOnlySpan<byte> data, int bits)
    {
        int rate = 200 - 2 * (bits / 8);
        Span<ulong> s = stackalloc ulong[25];
        s.Clear();
        int offset = 0;
        while (data.Length - offset >= rate)
        {
            Absorb(s, data.Slice(offset, rate));
            offset += rate;
        }
        Span<byte> last = stackalloc byte[rate];
        last.Clear();
        data[offset..].CopyTo(last);
        last[data.Length - offset] ^= 0x06;
        last[rate - 1] ^= 0x80;
        Absorb(s, last);
        var output = new byte[bits / 8];
        Span<byte> lane = stackalloc byte[8];
        for (int i = 0; i < output.Length; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(lane, s[i / 8]);
            lane[..Math.Min(8, output.Length - i)].CopyTo(output.AsSpan(i));
        }
        return output;
    }

    static void Absorb(Span<ulong> s, ReadOnlySpan<byte> block)
    {
        for (int i = 0; i < block.Length / 8; i++) s[i] ^= BinaryPrimitives.ReadUInt64LittleEndian(block.Slice(i * 8));
        Permute(s);
    }

    static void Permute(Span<ulong> a)
    {
        Span<ulong> c = stackalloc ulong[5];
        Span<ulong> b = stackalloc ulong[25];
        for (int round = 0; round < 24; round++)
        {
            for (int x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
            for (int x = 0; x < 5; x++)
            {
                ulong d = c[(x + 4) % 5] ^ BitOperations.RotateLeft(c[(x + 1) % 5], 1);
                for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
            }
            for (int x = 0; x < 5; x++)
                for (int y = 0; y < 5; y++)
                    b[y + 5 * ((2 * x + 3 * y) % 5)] = BitOperations.RotateLeft(a[x + 5 * y], Rot[x + 5 * y]);
            for (int x = 0; x < 5; x++)
                for (int y = 0; y < 25; y += 5)
                    a[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
            a[0] ^= RC[round];
        }
    }
}
