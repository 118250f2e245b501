using System.Net;
using System.Net.Sockets;

namespace Assay.Engine.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on 127.0.0.1 in front of a real server (PostgreSQL), so a test can take the database
/// away from a running engine: <see cref="Cut"/> closes every relayed connection and refuses new ones.
/// </summary>
public sealed class TcpRelay : IDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly string _targetHost;
    readonly int _targetPort;
    readonly List<TcpClient> _open = [];
    readonly CancellationTokenSource _cts = new();

    public TcpRelay(string targetHost, int targetPort)
    {
        (_targetHost, _targetPort) = (targetHost, targetPort);
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    async Task AcceptLoopAsync()
    {
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                var inbound = await _listener.AcceptTcpClientAsync(_cts.Token);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(_targetHost, _targetPort, _cts.Token);
                lock (_open) { _open.Add(inbound); _open.Add(outbound); }
                _ = PumpAsync(inbound, outbound);
                _ = PumpAsync(outbound, inbound);
            }
        }
        catch (Exception) when (_cts.IsCancellationRequested) { }
    }

    async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try { await from.GetStream().CopyToAsync(to.GetStream(), _cts.Token); }
        catch (Exception) { }
        finally { from.Close(); to.Close(); }
    }

    /// <summary>The database "goes down": relayed connections are reset and nothing is accepted any more.</summary>
    public void Cut()
    {
        _cts.Cancel();
        _listener.Stop();
        lock (_open)
        {
            foreach (var c in _open)
            {
                try { c.Client.LingerState = new LingerOption(true, 0); } catch (Exception) { }
                c.Close();
            }
            _open.Clear();
        }
    }

    public void Dispose() => Cut();
}
