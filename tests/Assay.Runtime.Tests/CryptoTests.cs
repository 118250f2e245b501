using System.Security.Cryptography;
using System.Text;

namespace Assay.Runtime.Tests;

/// <summary>crypto: known-answer vectors (NIST, RFC 2202/4231/7515, jwt.io), round trips, failures.</summary>
public sealed class CryptoTests : LuaHarness
{
    [Theory]
    [InlineData("md5", "900150983cd24fb0d6963f7d28e17f72", "d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha1", "a9993e364706816aba3e25717850c26c9cd0d89d", "da39a3ee5e6b4b0d3255bfef95601890afd80709")]
    [InlineData("sha224", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f")]
    [InlineData("sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("sha384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b")]
    [InlineData("sha512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")]
    [InlineData("sha3-224", "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf", "6b4e03423667dbb73b6e15454f0eb1abd4597f9a1b078e3f5b5a6bc7")]
    [InlineData("sha3-256", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532", "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")]
    [InlineData("sha3-384", "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25", "0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61995e71bbee983a2ac3713831264adb47fb6bd1e058d5f004")]
    [InlineData("sha3-512", "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0", "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26")]
    public void HashNistVectors(string alg, string abc, string empty)
    {
        Assert.Equal(abc, Eval($"crypto.hash('abc', '{alg}')"));
        Assert.Equal(empty, Eval($"crypto.hash('', '{alg}')"));
        Assert.Equal(abc, Eval($"crypto.hash('abc', '{alg.ToUpperInvariant()}')"));
    }

    [Theory]   // NIST SHA-3 / SHA-2 examples: 200 bytes of 0xa3 (longer than one block of every variant)
    [InlineData("sha224", "5232de71f65951bcd3d6dd18b73e6f12ebb5702de4c738446222217a")]
    [InlineData("sha3-224", "9376816aba503f72f96ce7eb65ac095deee3be4bf9bbc2a1cb7e11e0")]
    [InlineData("sha3-256", "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787")]
    [InlineData("sha3-384", "1881de2ca7e41ef95dc4732b8f5f002b189cc1e42b74168ed1732649ce1dbcdd76197a31fd55ee989f2d7050dd473e8f")]
    [InlineData("sha3-512", "e76dfad22084a8b1467fcf2ffa58361bec7628edf5f3fdc0e4805dc48caeeca81b7c13c30adf52a3659584739a2df46be589c51ca1a4a8416df6545a1ce8ba00")]
    public void HashMultiBlockVectors(string alg, string expected) =>
        Assert.Equal(expected, Eval($"crypto.hash(string.rep('\\xa3', 200), '{alg}')"));

    [Fact]
    public void Sha224MillionA() =>
        Assert.Equal("20794655980c91d8bbb4c1ea97618a4bf03f42581948b2ee4ee7ad67", Eval("crypto.hash(string.rep('a', 1000000), 'sha224')"));

    [Fact]
    public void HashDefaultsAndEncodings() => Ok("""
        assert.eq(crypto.hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        assert.eq(crypto.hash("abc", "sha256", "base64"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        assert.eq(hex.encode(crypto.hash("abc", "sha256", "raw")), crypto.hash("abc"))
        assert.eq(crypto.hash("\0\255", "md5"), crypto.hash("\0\255", "MD5"))
        local _, e = pcall(crypto.hash, "x", "sha999")
        assert.contains(e, "crypto.hash: unknown algorithm 'sha999' (supported: md5, sha1")
        local _, e2 = pcall(crypto.hash, "x", "sha256", "b32")
        assert.contains(e2, "crypto.hash: unknown output encoding 'b32'")
        """);

    [Theory]   // RFC 2202 (md5, sha1), RFC 4231 case 1, NIST-consistent HMAC-SHA3
    [InlineData("md5", "9294727a3638bb1c13f48ef8158bfc9d", 16)]
    [InlineData("sha1", "b617318655057264e28bc0b6fb378c8ef146be00", 20)]
    [InlineData("sha224", "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22", 20)]
    [InlineData("sha256", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 20)]
    [InlineData("sha384", "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6", 20)]
    [InlineData("sha512", "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854", 20)]
    [InlineData("sha3-224", "3b16546bbc7be2706a031dcafd56373d9884367641d8c59af3c860f7", 20)]
    [InlineData("sha3-256", "ba85192310dffa96e2a3a40e69774351140bb7185e1202cdcc917589f95e16bb", 20)]
    [InlineData("sha3-384", "68d2dcf7fd4ddd0a2240c8a437305f61fb7334cfb5d0226e1bc27dc10a2e723a20d370b47743130e26ac7e3d532886bd", 20)]
    [InlineData("sha3-512", "eb3fbd4b2eaab8f5c504bd3a41465aacec15770a7cabac531e482f860b5ec7ba47ccb2c6f2afce8f88d22b6dc61380f23a668fd3888bb80537c0a0b86407689e", 20)]
    public void HmacHiThere(string alg, string expected, int keyLength) =>
        Assert.Equal(expected, Eval($"crypto.hmac(string.rep('\\x0b', {keyLength}), 'Hi There', '{alg}')"));

    [Theory]   // RFC 4231 case 6 style: a 131-byte key (longer than the block) is hashed first
    [InlineData("sha224", "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e")]
    [InlineData("sha256", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")]
    [InlineData("sha512", "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598")]
    [InlineData("sha3-224", "b4a1f04c00287a9b7f6075b313d279b833bc8f75124352d05fb9995f")]
    [InlineData("sha3-256", "ed73a374b96c005235f948032f09674a58c0ce555cfc1f223b02356560312c3b")]
    [InlineData("sha3-512", "00f751a9e50695b090ed6911a4b65524951cdc15a73a5d58bb55215ea2cd839ac79d2b44a39bafab27e83fde9e11f6340b11d991b1b91bf2eee7fc872426c3a4")]
    public void HmacLongKey(string alg, string expected) =>
        Assert.Equal(expected, Eval($"crypto.hmac(string.rep('\\xaa', 131), 'Test Using Larger Than Block-Size Key - Hash Key First', '{alg}')"));

    [Fact]
    public void HmacDefaultsAndRaw() => Ok("""
        assert.eq(crypto.hmac("Jefe", "what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        local raw = crypto.hmac("Jefe", "what do ya want for nothing?", "sha256", true)
        assert.eq(#raw, 32)
        assert.eq(hex.encode(raw), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        local _, e = pcall(crypto.hmac, "k", "d", "crc32")
        assert.contains(e, "crypto.hmac: unknown algorithm 'crc32'")
        """);

    [Fact]
    public void RandomAndUuid() => Ok("""
        local r = crypto.random()
        assert.eq(#r, 32)
        assert.matches(r, "^[A-Za-z0-9]+$")
        assert.ne(crypto.random(16), crypto.random(16))
        assert.eq(#crypto.random(1000), 1000)
        local b = crypto.random_bytes(64)
        assert.eq(#b, 64)
        assert.ne(b, crypto.random_bytes(64))
        for _, bad in ipairs({0, -3}) do
          local _, e = pcall(crypto.random, bad)
          assert.contains(e, "crypto.random: length must be positive")
          local _, e2 = pcall(crypto.random_bytes, bad)
          assert.contains(e2, "crypto.random_bytes: length must be positive")
        end
        local _, e = pcall(crypto.random, 1.5)
        assert.contains(e, "number has no integer representation")
        local seen = {}
        for _ = 1, 100 do
          local u = crypto.uuid()
          assert.matches(u, "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$")
          assert.eq(seen[u], nil)
          seen[u] = true
        end
        assert.matches(crypto.uuid("v7"), "^%x+%-%x+%-7%x%x%x%-[89ab]")
        """);

    const string JwtIoToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    [Fact]
    public void JwtIoHs256Token() => Ok($$"""
        local token = "{{JwtIoToken}}"
        local claims, header = crypto.jwt_verify(token, "your-256-bit-secret")
        assert.eq(claims.sub, "1234567890")
        assert.eq(claims.name, "John Doe")
        assert.eq(claims.iat, 1516239022)
        assert.eq(header.alg, "HS256")
        assert.eq(header.typ, "JWT")
        local ok, e = pcall(crypto.jwt_verify, token, "wrong-secret")
        assert.eq(ok, false)
        assert.contains(e, "crypto.jwt_verify: invalid signature")
        -- a tampered payload fails too
        local h, p, s = token:match("([^.]+)%.([^.]+)%.([^.]+)")
        local forged = h .. "." .. base64.url_encode('{"sub":"admin"}') .. "." .. s
        local _, e2 = pcall(crypto.jwt_verify, forged, "your-256-bit-secret")
        assert.contains(e2, "invalid signature")
        local d = crypto.jwt_decode(token)
        assert.eq(d.verified, false)
        assert.eq(d.claims.name, "John Doe")
        assert.eq(d.header.alg, "HS256")
        assert.eq(d.signature, s)
        -- decode never verifies, so it never reads the signature segment either
        local fake = crypto.jwt_decode(h .. "." .. p .. ".fake-signature!")
        assert.eq(fake.claims.sub, "1234567890")
        assert.eq(fake.signature, "fake-signature!")
        assert.eq(crypto.jwt_decode(h .. "." .. p .. ".").claims.name, "John Doe")
        """);

    const string RfcPayload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    const string RfcRsaN = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
    const string RfcRsaSig = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

    [Fact]
    public void Rfc7515Examples() => Ok($$$"""
        local payload = "{{{RfcPayload}}}"
        -- A.1 HS256 with a JWK octet key
        local a1 = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." .. payload .. ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        local oct = {kty = "oct", k = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}
        local claims = crypto.jwt_verify(a1, oct, {verify_exp = false})
        assert.eq(claims.iss, "joe")
        assert.eq(claims.exp, 1300819380)
        assert.eq(claims["http://example.com/is_root"], true)
        -- exp 1300819380 is in 2011: verified by default
        local _, e = pcall(crypto.jwt_verify, a1, oct)
        assert.contains(e, "crypto.jwt_verify: token expired")
        -- but accepted at a time before it
        assert.eq(crypto.jwt_verify(a1, oct, {now = 1300819000}).iss, "joe")

        -- A.2 RS256 with a JWK RSA public key
        local rsa = {kty = "RSA", kid = "2010-12-29", e = "AQAB", n = "{{{RfcRsaN}}}"}
        local a2 = "eyJhbGciOiJSUzI1NiJ9." .. payload .. ".{{{RfcRsaSig}}}"
        assert.eq(crypto.jwt_verify(a2, rsa, {verify_exp = false}).iss, "joe")
        -- a one-character change to the signature fails
        local bad = a2:sub(1, -11) .. (a2:sub(-10, -10) == "A" and "B" or "A") .. a2:sub(-9)
        local _, e2 = pcall(crypto.jwt_verify, bad, rsa, {verify_exp = false})
        assert.contains(e2, "crypto.jwt_verify: invalid signature")

        -- A.3 ES256 with a JWK EC public key
        local ec = {kty = "EC", crv = "P-256", x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
        local a3 = "eyJhbGciOiJFUzI1NiJ9." .. payload .. ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
        assert.eq(crypto.jwt_verify(a3, ec, {verify_exp = false}).iss, "joe")

        -- all three through one JWKS (JSON text), each token finds its key
        local jwks = json.encode({keys = {oct, rsa, ec}})
        for _, t in ipairs({a1, a2, a3}) do
          assert.eq(crypto.jwt_verify(t, jwks, {verify_exp = false}).iss, "joe")
        end
        -- allow-list
        local _, e3 = pcall(crypto.jwt_verify, a2, jwks, {verify_exp = false, algorithms = {"ES256"}})
        assert.contains(e3, "algorithm RS256 is not allowed (allowed: ES256)")
        """);

    static string Pem(AsymmetricAlgorithm key, bool pkcs8) => key switch
    {
        RSA rsa => pkcs8 ? rsa.ExportPkcs8PrivateKeyPem() : rsa.ExportRSAPrivateKeyPem(),
        ECDsa ec => pkcs8 ? ec.ExportPkcs8PrivateKeyPem() : ec.ExportECPrivateKeyPem(),
        _ => throw new ArgumentException(),
    };

    [Fact]
    public void SignVerifyRoundTrips()
    {
        using var rsa = RSA.Create(2048);
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var p521 = ECDsa.Create(ECCurve.NamedCurves.nistP521);
        Ok("""
            local rsa1, rsa8, rsapub = [[@RSA1@]], [[@RSA8@]], [[@RSAPUB@]]
            local ec = {
              ES256 = {[[@P256@]], [[@P256PUB@]]},
              ES384 = {[[@P384@]], [[@P384PUB@]]},
              ES512 = {[[@P521@]], [[@P521PUB@]]},
            }
            local claims = {sub = "42", roles = {"a", "b"}, n = 1.5}
            for _, alg in ipairs({"HS256", "HS384", "HS512"}) do
              local t = crypto.jwt_sign(claims, "s3cret", alg)
              assert.eq(crypto.jwt_decode(t).header.alg, alg)
              assert.eq(crypto.jwt_verify(t, "s3cret").roles[2], "b")
            end
            for _, alg in ipairs({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) do
              local t = crypto.jwt_sign(claims, alg:sub(1, 1) == "R" and rsa1 or rsa8, alg, {kid = "k1"})
              local c, h = crypto.jwt_verify(t, rsapub)
              assert.eq(c.sub, "42")
              assert.eq(h.kid, "k1")
              assert.eq(h.alg, alg)
              -- the private key verifies too
              assert.eq(crypto.jwt_verify(t, rsa8).n, 1.5)
            end
            for alg, keys in pairs(ec) do
              local t = crypto.jwt_sign(claims, keys[1], alg:lower())
              assert.eq(crypto.jwt_verify(t, keys[2]).sub, "42")
              -- the algorithm follows the key when not given
              assert.eq(crypto.jwt_decode(crypto.jwt_sign(claims, keys[1])).header.alg, alg)
            end
            assert.eq(crypto.jwt_decode(crypto.jwt_sign(claims, rsa1)).header.alg, "RS256")
            -- a plain string is never taken for an HMAC secret unless HS* is asked for by name
            local okp, ep = pcall(crypto.jwt_sign, claims, "secret")
            assert.eq(okp, false)
            assert.contains(ep, "crypto.jwt_sign: invalid PEM key")
            assert.contains(select(2, pcall(crypto.jwt_sign, claims, "/etc/keys/signing.pem", "RS256")), "crypto.jwt_sign: invalid PEM key")
            assert.eq(crypto.jwt_decode(crypto.jwt_sign(claims, "secret", "HS256")).header.alg, "HS256")
            -- an empty claims table is an object
            assert.eq(crypto.jwt_decode(crypto.jwt_sign({}, "k", "HS512")).claims, json.object())
            __rs256 = crypto.jwt_sign({sub = "x"}, rsa1, "RS256")
            """
            .Replace("@RSA1@", Pem(rsa, false)).Replace("@RSA8@", Pem(rsa, true)).Replace("@RSAPUB@", rsa.ExportSubjectPublicKeyInfoPem())
            .Replace("@P256@", Pem(p256, false)).Replace("@P256PUB@", p256.ExportSubjectPublicKeyInfoPem())
            .Replace("@P384@", Pem(p384, true)).Replace("@P384PUB@", p384.ExportSubjectPublicKeyInfoPem())
            .Replace("@P521@", Pem(p521, true)).Replace("@P521PUB@", p521.ExportSubjectPublicKeyInfoPem()));
        // RS256 is deterministic: recompute the signature over the token's own signing input.
        var token = Eval("__rs256")!;
        var dot = token.LastIndexOf('.');
        var expected = rsa.SignData(Encoding.ASCII.GetBytes(token[..dot]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.Equal(Convert.ToBase64String(expected).TrimEnd('=').Replace('+', '-').Replace('/', '_'), token[(dot + 1)..]);
        Assert.Equal("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", Encoding.UTF8.GetString(Convert.FromBase64String(token[..token.IndexOf('.')].PadRight(36, '='))));
    }

    [Fact]
    public void VerifyRejectsAlgorithmConfusionAndNone()
    {
        using var rsa = RSA.Create(2048);
        var pub = rsa.ExportSubjectPublicKeyInfoPem();
        Ok($$"""
            local pub = [[{{pub}}]]
            -- HS256 "signed" with the public key text: the classic confusion attack
            local header = base64.url_encode('{"alg":"HS256","typ":"JWT"}')
            local body = base64.url_encode('{"sub":"admin"}')
            local sig = base64.url_encode(crypto.hmac(pub, header .. "." .. body, "sha256", true))
            local _, e = pcall(crypto.jwt_verify, header .. "." .. body .. "." .. sig, pub)
            assert.contains(e, "crypto.jwt_verify: algorithm HS256 does not fit the given key (RSA key)")
            -- alg none
            local none = base64.url_encode('{"alg":"none"}') .. "." .. body .. "."
            local _, e2 = pcall(crypto.jwt_verify, none, "secret")
            assert.contains(e2, "unsupported algorithm 'none' (unsigned tokens are never accepted)")
            -- signing HS with a PEM key / RS with a secret
            local _, e3 = pcall(crypto.jwt_sign, {}, "secret", "RS256")
            assert.contains(e3, "crypto.jwt_sign: invalid PEM key")
            local _, e4 = pcall(crypto.jwt_sign, {}, pub, "RS256")
            assert.contains(e4, "crypto.jwt_sign: cannot sign with this RSA key (a private key is needed)")
            """);
    }

    [Fact]
    public void VerifyClaims() => Ok("""
        local now = os.time()
        local function tok(c) return crypto.jwt_sign(c, "k", "HS256") end
        local function err(t, opts) return select(2, pcall(crypto.jwt_verify, t, "k", opts)) end
        assert.contains(err(tok({exp = now - 10})), "token expired")
        assert.eq(crypto.jwt_verify(tok({exp = now - 10}), "k", {leeway = 60}).exp, now - 10)
        assert.eq(crypto.jwt_verify(tok({exp = now - 10}), "k", {verify_exp = false}).exp, now - 10)
        assert.contains(err(tok({nbf = now + 100})), "token not yet valid")
        assert.eq(crypto.jwt_verify(tok({nbf = now + 30}), "k", {leeway = 60}).nbf, now + 30)
        assert.contains(err(tok({exp = "soon"})), "claim 'exp' must be a number")
        -- issuer
        assert.eq(crypto.jwt_verify(tok({iss = "a"}), "k", {issuer = {"b", "a"}}).iss, "a")
        assert.contains(err(tok({iss = "evil"}), {issuer = "a"}), "issuer 'evil' is not accepted")
        assert.contains(err(tok({}), {issuer = "a"}), "token has no 'iss' claim")
        -- audience: string or list on either side
        assert.eq(crypto.jwt_verify(tok({aud = {"x", "api"}}), "k", {audience = "api"}).aud[2], "api")
        assert.eq(crypto.jwt_verify(tok({aud = "api"}), "k", {audience = {"api", "web"}}).aud, "api")
        assert.contains(err(tok({aud = "other"}), {audience = "api"}), "audience other is not accepted")
        assert.contains(err(tok({aud = "api"})), "pass opts.audience to accept it")
        -- expires_in sets exp and iat
        local c = crypto.jwt_verify(crypto.jwt_sign({sub = "s"}, "k", "HS256", {expires_in = 60}), "k")
        assert.is_true(c.exp >= now + 59 and c.exp <= now + 62)
        assert.is_true(c.iat >= now - 1 and c.iat <= now + 2)
        """);

    [Theory]
    [InlineData("crypto.jwt_decode('a.b')", "crypto.jwt_decode: malformed token: expected three '.'-separated segments (header.payload.signature), found 2")]
    [InlineData("crypto.jwt_decode('a!.b.c')", "crypto.jwt_decode: header: invalid base64url")]
    [InlineData("crypto.jwt_decode(base64.url_encode('{x') .. '.e30.')", "crypto.jwt_decode: header: invalid JSON")]
    [InlineData("crypto.jwt_decode('e30.' .. base64.url_encode('[1]') .. '.')", "crypto.jwt_decode: claims: not a JSON object")]
    [InlineData("crypto.jwt_verify('e30.e30.', 'k')", "crypto.jwt_verify: header has no 'alg'")]
    [InlineData("crypto.jwt_sign('x', 'k')", "bad argument #1 to 'crypto.jwt_sign' (claims table expected, got string)")]
    [InlineData("crypto.jwt_sign({}, 'k', 'XS256')", "crypto.jwt_sign: unsupported algorithm 'XS256'")]
    [InlineData("crypto.jwt_sign({}, '-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----')", "crypto.jwt_sign: invalid PEM key")]
    [InlineData("crypto.jwt_sign({}, 'k')", "crypto.jwt_sign: invalid PEM key")]
    [InlineData("crypto.jwt_sign({1, 2}, 'k', 'HS256')", "crypto.jwt_sign: claims must be a table with string keys")]
    [InlineData("crypto.jwt_sign({f = print}, 'k', 'HS256')", "crypto.jwt_sign: claims: cannot encode a function value at $.f")]
    [InlineData("crypto.jwt_verify('e30.e30.', {keys = {}})", "crypto.jwt_verify: the key set holds no usable signing key")]
    public void MalformedInput(string call, string message) => Assert.Contains(message, Error(call));
}
