using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Assay.Engine.Tests.Infrastructure;

/// <summary>A real OIDC discovery + JWKS endpoint on 127.0.0.1, and a JWT signer for its keys.</summary>
public sealed class TestOidcServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly List<(string Kid, RSA Key)> _published = [];
    int _jwksHits;

    public string Issuer { get; }
    public int JwksHits => Volatile.Read(ref _jwksHits);

    TestOidcServer(WebApplication app, string issuer)
    {
        _app = app;
        Issuer = issuer;
    }

    public static async Task<TestOidcServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        TestOidcServer? self = null;
        app.MapGet("/.well-known/openid-configuration", (HttpContext ctx) =>
            ctx.Response.WriteAsync($"{{\"issuer\":\"{self!.Issuer}\",\"jwks_uri\":\"{self.Issuer}/jwks\"}}"));
        app.MapGet("/jwks", (HttpContext ctx) =>
        {
            Interlocked.Increment(ref self!._jwksHits);
            var keys = new JsonArray();
            lock (self._published)
                foreach (var (kid, key) in self._published)
                {
                    var p = key.ExportParameters(false);
                    keys.Add((JsonNode)O(("kty", "RSA"), ("kid", kid), ("use", "sig"), ("n", B64(p.Modulus!)), ("e", B64(p.Exponent!))));
                }
            ctx.Response.ContentType = "application/json";
            return ctx.Response.WriteAsync(O(("keys", keys)).ToJsonString());
        });
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        self = new TestOidcServer(app, url);
        return self;
    }

    public RSA Publish(string kid)
    {
        var key = RSA.Create(2048);
        lock (_published) _published.Add((kid, key));
        return key;
    }

    public static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Signs <paramref name="claims"/> with RS256 (or the given alg) using <paramref name="key"/>.</summary>
    public static string Sign(RSA key, string? kid, JsonObject claims, string alg = "RS256")
    {
        var header = O(("alg", alg), ("typ", "JWT"));
        if (kid is not null) header["kid"] = kid;
        var signingInput = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var sig = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + B64(sig);
    }

    public JsonObject Claims(double expIn = 3600, JsonNode? aud = null, string? iss = null)
    {
        var c = O(("iss", iss ?? Issuer), ("sub", "tester"), ("exp", DateTimeOffset.UtcNow.ToUnixTimeSeconds() + expIn));
        if (aud is not null) c["aud"] = aud;
        return c;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
