using System.Net;

namespace Assay.Runtime.Builtins.Http;

/// <summary><c>http.serve</c>'s third argument, with the defaults a public server needs.</summary>
internal sealed class ServerOptions
{
    public string Host { get; set; } = "0.0.0.0";
    public long MaxBody { get; set; } = 8L * 1024 * 1024;
    public TimeSpan HeaderTimeout { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(120);
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan SseKeepAlive { get; set; } = TimeSpan.FromSeconds(15);
    public long? MaxConnections { get; set; }
    public int WsMaxMessage { get; set; } = WsConnection.DefaultServerMaxMessage;
    public int WsMaxConnections { get; set; } = 100;
    public bool AccessLog { get; set; }

    const double MaxTimeout = 86400 * 7;

    /// <summary>Reads the options table at <paramref name="arg"/> (nil: the defaults); raises on unknown or malformed options.</summary>
    public static ServerOptions Read(LuaCall call, int arg)
    {
        var options = call.Options(arg, ["host", "max_body", "max_connections", "ws_max_message", "ws_max_connections", "access_log",
            "header_timeout", "read_timeout", "keepalive_timeout", "shutdown_timeout", "sse_keepalive", "workers"]);
        var o = new ServerOptions();
        if (!options.Given) return o;
        o.Host = options.String("host") ?? o.Host;
        o.MaxBody = options.Integer("max_body", min: 0) ?? o.MaxBody;
        o.MaxConnections = options.Integer("max_connections", min: 1);
        o.WsMaxMessage = (int)(options.Integer("ws_max_message", min: 1, max: WsModule.MaxMessageLimit) ?? o.WsMaxMessage);
        o.WsMaxConnections = (int)(options.Integer("ws_max_connections", min: 1, max: int.MaxValue) ?? o.WsMaxConnections);
        o.AccessLog = options.Flag("access_log");
        o.HeaderTimeout = Seconds(options, "header_timeout") ?? o.HeaderTimeout;
        o.ReadTimeout = Seconds(options, "read_timeout") ?? o.ReadTimeout;
        o.KeepAliveTimeout = Seconds(options, "keepalive_timeout") ?? o.KeepAliveTimeout;
        o.ShutdownTimeout = Seconds(options, "shutdown_timeout") ?? o.ShutdownTimeout;
        o.SseKeepAlive = Seconds(options, "sse_keepalive") ?? o.SseKeepAlive;
        if (options.Integer("workers", min: 1) > 1)
            throw new BuiltinError("option 'workers' > 1 is not supported: one state serves every request (see docs/modules/http.md)");
        return o;
    }

    static TimeSpan? Seconds(LuaOptions options, string key) =>
        options.Seconds(key, positive: true, max: MaxTimeout) is { } s ? TimeSpan.FromSeconds(s) : null;

    public IPAddress ResolveHost()
    {
        if (Host is "" or "0.0.0.0" or "*") return IPAddress.Any;
        if (Host is "::" or "[::]") return IPAddress.IPv6Any;
        if (Host == "localhost") return IPAddress.Loopback;
        if (IPAddress.TryParse(Host.Trim('[', ']'), out var ip)) return ip;
        var addresses = Dns.GetHostAddresses(Host);
        return addresses.Length > 0 ? addresses[0] : throw new ArgumentException($"cannot resolve host '{Host}'");
    }
}
