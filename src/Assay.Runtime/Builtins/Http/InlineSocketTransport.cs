using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Assay.Runtime.Builtins.Http;

/// <summary>
/// Kestrel's socket transport with every step of a request on the socket (epoll) thread: the
/// accepted sockets complete their reads and writes inline on that thread (instead of queueing a
/// thread-pool work item per event), and Kestrel parses and runs <c>HandleAsync</c> there too
/// (<see cref="SocketConnectionFactoryOptions.UnsafePreferInlineScheduling"/>). On a small machine
/// this cuts the CPU per request to bare Kestrel's (docs/benchmarks.md "HTTP"): no thread-pool wake-ups, no
/// hand-offs between Kestrel's I/O queue and the application.
/// It is safe here because nothing http.serve runs on that thread blocks: the handler runs on the
/// Lua loop and is only awaited; bodies, files, SSE and WebSockets are written asynchronously.
/// Only the server's own connections are inline: other sockets of the process (HTTP clients,
/// database drivers) keep the default dispatch, so a blocking continuation there cannot stall
/// the server's I/O.
/// </summary>
internal sealed class InlineSocketTransport : IConnectionListenerFactory
{
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        Socket socket;
        try
        {
            socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e); // Kestrel words it "address already in use"
        }
        try
        {
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new(new Listener(socket));
    }

    /// <summary>The internal switch behind DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS, for one socket.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    static extern void SetPreferInlineCompletions(Socket socket, bool value);

    static int _inlineUnavailable;

    /// <summary>Best effort: a runtime without the switch still serves, through the thread pool.</summary>
    static void PreferInline(Socket socket)
    {
        if (Volatile.Read(ref _inlineUnavailable) != 0) return;
        try { SetPreferInlineCompletions(socket, true); }
        catch (MissingMethodException) { Volatile.Write(ref _inlineUnavailable, 1); }
    }

    sealed class Listener(Socket socket) : IConnectionListener
    {
        readonly SocketConnectionContextFactory _factory = new(
            new SocketConnectionFactoryOptions { UnsafePreferInlineScheduling = true }, NullLogger.Instance);

        public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                try
                {
                    var accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                    if (accepted.LocalEndPoint is IPEndPoint) accepted.NoDelay = true;
                    PreferInline(accepted);
                    return _factory.Create(accepted);
                }
                catch (ObjectDisposedException) { return null; } // unbound
                catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted) { return null; }
                catch (SocketException) { } // the peer reset the connection before it was accepted: next one
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            socket.Dispose();
            return default;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            _factory.Dispose();
            return default;
        }
    }
}
