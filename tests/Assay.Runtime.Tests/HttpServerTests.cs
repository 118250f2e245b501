using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Assay.Runtime.Tests;

/// <summary>
/// http.serve at the socket level: what a hostile or broken client sends (slow headers, oversized
/// chunked bodies, header injection through a handler) — through real sockets on 127.0.0.1.
/// </summary>
public class HttpServerTests
{
    sealed class Server : IDisposable
    {
        readonly LuaHarness _h = new();
        readonly Task _loop;
        public int Port { get; }

        public Server(string routes, string opts = "")
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var code = $"http.serve({Port}, {routes}, {{ host = '127.0.0.1', {opts} }})";
            _loop = Task.Factory.StartNew(() => _h.Run(code), TaskCreationOptions.LongRunning);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (true)
            {
                try
                {
                    using var c = new TcpClient();
                    c.Connect(IPAddress.Loopback, Port);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline) { Thread.Sleep(20); }
            }
        }

        public string Log => _h.Log.ToString();

        public void Dispose()
        {
            _h.Vm.Interrupt("test done");
            _loop.Wait(TimeSpan.FromSeconds(10));
            _h.Dispose();
        }
    }

    static async Task<string> RawAsync(int port, string request, TimeSpan? timeout = null)
    {
        using var c = new TcpClient();
        await c.ConnectAsync(IPAddress.Loopback, port);
        var s = c.GetStream();
        await s.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buf = new byte[65536];
        var sb = new StringBuilder();
        try
        {
            while (true)
            {
                int n = await s.ReadAsync(buf, cts.Token);
                if (n == 0) break;
                sb.Append(Encoding.Latin1.GetString(buf, 0, n));
                if (sb.ToString().Contains("\r\n\r\n") && request.Contains("Connection: close") == false && sb.ToString().Contains("Content-Length: ")) break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException) { }
        return sb.ToString();
    }

    [Fact]
    public async Task HeaderInjectionThroughAHandlerIsA500AndTheServerKeepsServing()
    {
        using var server = new Server("{ GET = { ['/r'] = function(req) return { headers = { ['X-Echo'] = req.params.v }, body = 'ok' } end } }");
        var evil = await RawAsync(server.Port, "GET /r?v=a%0d%0aSet-Cookie:%20evil=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 500", evil);
        Assert.DoesNotContain("evil", evil);
        var fine = await RawAsync(server.Port, "GET /r?v=good HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", fine);
        Assert.Contains("X-Echo: good", fine);
        Assert.Contains("invalid value for response header", server.Log);
    }

    [Fact]
    public async Task SlowHeadersAreCutOffByTheHeaderTimeout()
    {
        using var server = new Server("{ GET = { ['/'] = function() return { body = 'ok' } end } }", "header_timeout = 1");
        using var c = new TcpClient();
        await c.ConnectAsync(IPAddress.Loopback, server.Port);
        var s = c.GetStream();
        await s.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n"u8.ToArray()); // never finishes the headers
        var started = DateTime.UtcNow;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buf = new byte[4096];
        try
        {
            while (await s.ReadAsync(buf, cts.Token) > 0) { }
        }
        catch (IOException) { }
        Assert.False(cts.IsCancellationRequested, "the server kept a connection with unfinished headers open");
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 0.5, 5);
    }

    [Fact]
    public async Task OversizedBodiesAre413WithAndWithoutContentLength()
    {
        using var server = new Server("{ POST = { ['/'] = function(req) return { body = tostring(#req.body) } end } }", "max_body = 1000");
        var small = await RawAsync(server.Port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        Assert.StartsWith("HTTP/1.1 200", small);
        var declared = await RawAsync(server.Port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + new string('x', 5000));
        Assert.StartsWith("HTTP/1.1 413", declared);
        var chunk = new string('y', 800);
        var chunked = await RawAsync(server.Port, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
            $"{chunk.Length:x}\r\n{chunk}\r\n{chunk.Length:x}\r\n{chunk}\r\n0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 413", chunked);
    }

    [Fact]
    public async Task RepeatedResponseHeadersAreSentOncePerValue()
    {
        using var server = new Server("{ GET = { ['/'] = function() return { headers = { ['Set-Cookie'] = { 'a=1', 'b=2' } } } end } }");
        var resp = await RawAsync(server.Port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Contains("Set-Cookie: a=1\r\n", resp);
        Assert.Contains("Set-Cookie: b=2\r\n", resp);
    }

    // The server's connections run on InlineSocketTransport (reads, parsing and HandleAsync on the
    // socket thread); the tests below hold it to what Kestrel's own transport did.

    [Fact]
    public async Task PipelinedRequestsOnOneConnectionAreAnsweredInOrder()
    {
        using var server = new Server("{ GET = { ['/slow'] = function() sleep(0.2) return { body = 'slow' } end, ['/fast'] = function() return { body = 'fast' } end } }");
        var resp = await RawAsync(server.Port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        var bodies = resp.Split("\r\n\r\n").Skip(1).Select(b => b.Split("HTTP/1.1")[0]).ToList();
        Assert.Equal(["slow", "fast", "slow"], bodies);
    }

    [Fact]
    public async Task ManyConcurrentKeepAliveConnectionsAreAllServed()
    {
        using var server = new Server("{ GET = { ['/n'] = function() hits = (hits or 0) + 1 return { json = { ok = true } } end, ['/hits'] = function() return { body = tostring(hits) } end } }");
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 40 }) { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}") };
        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            var codes = new List<HttpStatusCode>();
            for (int i = 0; i < 25; i++) codes.Add((await client.GetAsync("/n")).StatusCode);
            return codes;
        }));
        Assert.All(statuses.SelectMany(c => c), c => Assert.Equal(HttpStatusCode.OK, c));
        Assert.Equal("1000", await client.GetStringAsync("/hits"));
    }

    [Fact]
    public async Task ClientsThatResetTheirConnectionDoNotStopTheServer()
    {
        using var server = new Server("{ GET = { ['/'] = function() sleep(0.05) return { body = 'ok' } end } }");
        for (int i = 0; i < 20; i++)
        {
            var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { LingerState = new LingerOption(true, 0) };
            await c.ConnectAsync(IPAddress.Loopback, server.Port);
            if (i % 2 == 0) await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()); // reset while its handler runs
            c.Dispose(); // linger 0: RST instead of FIN
        }
        var resp = await RawAsync(server.Port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", resp);
        Assert.EndsWith("ok", resp);
    }
}
