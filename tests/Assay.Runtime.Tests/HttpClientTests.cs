using System.Net;
using System.Net.Sockets;

namespace Assay.Runtime.Tests;

/// <summary>Client behaviour that needs a misbehaving peer built from raw sockets.</summary>
public class HttpClientTests
{
    [Fact]
    public void ConnectTimeoutIsPerRequest()
    {
        // A listener that never accepts, with its accept queue filled: further SYNs are dropped,
        // so a connect hangs until the client gives up.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (int i = 0; i < 4; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try { s.Connect(IPAddress.Loopback, port); } catch (SocketException) { }
                fillers.Add(s);
            }
            Thread.Sleep(100);
            using var h = new LuaHarness();
            var task = h.Run($$"""
                local t0 = time()
                local ok, err = pcall(http.get, "http://127.0.0.1:{{port}}/", { connect_timeout = 0.3, timeout = 10 })
                result_ok, result_err, result_elapsed = ok, err, time() - t0
                """);
            Assert.True(task.Succeeded, task.ErrorReport);
            Assert.Equal("false", h.Eval("result_ok"));
            Assert.Contains("timed out", h.Eval("result_err"));
            Assert.InRange(double.Parse(h.Eval("result_elapsed")!, System.Globalization.CultureInfo.InvariantCulture), 0.2, 3);
        }
        finally
        {
            foreach (var s in fillers) s.Dispose();
        }
    }
}
