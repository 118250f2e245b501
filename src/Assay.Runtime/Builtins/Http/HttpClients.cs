using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Assay.Runtime.Builtins.Http;

/// <summary>Settings of an <c>http.client{…}</c> object that need their own connection pool.</summary>
/// <param name="ClientCert">Certificate (with its private key) presented when the server asks for one (mutual TLS).</param>
internal sealed record ClientTls(string? CaCertPem, bool Insecure, X509Certificate2? ClientCert = null);

/// <summary>
/// The pooled HTTP clients. One process-wide <see cref="SocketsHttpHandler"/> serves every plain
/// request (redirects are followed by hand, so one pool serves both redirect modes); client objects
/// with their own TLS trust get a pool of their own. Connect timeouts are per request: the
/// connect callback reads them from the request that opened the connection. Total timeouts are a
/// cancellation token per request (HttpClient.Timeout is infinite, so SSE streams are never cut).
/// </summary>
internal static class HttpClients
{
    public static readonly HttpRequestOptionsKey<TimeSpan> ConnectTimeoutKey = new("assay.connect_timeout");
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    static readonly Lazy<HttpMessageInvoker> Shared = new(() => new HttpMessageInvoker(CreateHandler(null), disposeHandler: false));

    public static HttpMessageInvoker Default => Shared.Value;

    public static HttpMessageInvoker Create(ClientTls tls) => new(CreateHandler(tls), disposeHandler: true);

    static SocketsHttpHandler CreateHandler(ClientTls? tls)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            UseCookies = false,
            // A body left unread (an SSE stream its reader closed, an abandoned download) closes its connection at once.
            // The default drains up to 1 MB for 2 s to reuse it: an endless stream kept the server sending for those 2 s.
            MaxResponseDrainSize = 0,
            ConnectCallback = ConnectAsync,
            // header values are byte strings from Lua, one char per byte (HttpClientNatives.HeaderValue)
            RequestHeaderEncodingSelector = static (_, _) => System.Text.Encoding.Latin1,
        };
        if (tls?.ClientCert is { } clientCert)
        {
            // Offered whatever issuers the server lists: the caller chose this certificate on purpose.
            handler.SslOptions.ClientCertificates = new X509CertificateCollection { clientCert };
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCert;
        }
        if (tls != null && (tls.Insecure || tls.CaCertPem != null))
        {
            X509Certificate2Collection? roots = null;
            if (tls.CaCertPem != null)
            {
                roots = new X509Certificate2Collection();
                roots.ImportFromPem(tls.CaCertPem);
                if (roots.Count == 0) throw new ArgumentException("invalid CA cert PEM (no certificate found)");
            }
            handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                if (tls.Insecure) return true;
                if (errors == SslPolicyErrors.None) return true;
                if (cert == null || roots == null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(cert));
            };
        }
        return handler;
    }

    static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var timeout = context.InitialRequestMessage.Options.TryGetValue(ConnectTimeoutKey, out var t) ? t : DefaultConnectTimeout;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (timeout > TimeSpan.Zero) cts.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(Resolve(context.DnsEndPoint), cts.Token).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"connect to {context.DnsEndPoint.Host}:{context.DnsEndPoint.Port} timed out after {Seconds(timeout)} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// RFC 6761 §6.3: every name under <c>.localhost</c> is the loopback host, as browsers and curl
    /// treat it (the system resolver often knows only <c>localhost</c> itself). Virtual-host style
    /// clients (S3's <c>bucket.s3.localhost:9000</c>) can then reach a local server.
    /// </summary>
    internal static DnsEndPoint Resolve(DnsEndPoint ep) =>
        ep.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || ep.Host.EndsWith(".localhost.", StringComparison.OrdinalIgnoreCase)
            ? new DnsEndPoint("localhost", ep.Port, ep.AddressFamily)
            : ep;

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
