using System.Net;
using Assay.Lua;

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

    /// <summary>Reads the options table at <paramref name="idx"/> (raw access); returns an error message or null.</summary>
    public string? Read(LuaState L, int idx)
    {
        if (L.TypeOf(idx) != LuaType.Table) return null;
        L.CheckStack(4);
        if (L.RawGetField(idx, "host") != LuaType.Nil)
        {
            if (L.TypeOf(-1) != LuaType.String) return "option 'host' must be a string";
            Host = L.ToStringValue(-1)!;
        }
        L.Pop(1);
        if (L.RawGetField(idx, "max_body") != LuaType.Nil)
        {
            if (!L.TryGetInteger(-1, out long n) || n < 0) return "option 'max_body' must be a number of bytes >= 0";
            MaxBody = n;
        }
        L.Pop(1);
        if (L.RawGetField(idx, "max_connections") != LuaType.Nil)
        {
            if (!L.TryGetInteger(-1, out long n) || n <= 0) return "option 'max_connections' must be a positive integer";
            MaxConnections = n;
        }
        L.Pop(1);
        if (L.RawGetField(idx, "ws_max_message") != LuaType.Nil)
        {
            if (!L.TryGetInteger(-1, out long n) || n < 1 || n > WsModule.MaxMessageLimit)
                return $"option 'ws_max_message' must be a number of bytes from 1 to {WsModule.MaxMessageLimit}";
            WsMaxMessage = (int)n;
        }
        L.Pop(1);
        if (L.RawGetField(idx, "ws_max_connections") != LuaType.Nil)
        {
            if (!L.TryGetInteger(-1, out long n) || n < 1 || n > int.MaxValue) return "option 'ws_max_connections' must be a positive integer";
            WsMaxConnections = (int)n;
        }
        L.Pop(1);
        AccessLog = L.RawGetField(idx, "access_log") != LuaType.Nil && L.ToBoolean(-1);
        L.Pop(1);
        foreach (var (name, set) in new (string, Action<TimeSpan>)[]
                 {
                     ("header_timeout", t => HeaderTimeout = t), ("read_timeout", t => ReadTimeout = t),
                     ("keepalive_timeout", t => KeepAliveTimeout = t), ("shutdown_timeout", t => ShutdownTimeout = t),
                     ("sse_keepalive", t => SseKeepAlive = t),
                 })
        {
            if (L.RawGetField(idx, name) != LuaType.Nil)
            {
                if (L.TypeOf(-1) != LuaType.Number || !(L.ToNumber(-1) > 0) || L.ToNumber(-1) > 86400 * 7)
                    return $"option '{name}' must be a positive number of seconds";
                set(TimeSpan.FromSeconds(L.ToNumber(-1)));
            }
            L.Pop(1);
        }
        if (L.RawGetField(idx, "workers") != LuaType.Nil)
        {
            if (!L.TryGetInteger(-1, out long w) || w < 1) return "option 'workers' must be a positive integer";
            if (w > 1) return "option 'workers' > 1 is not supported: one state serves every request (see docs/modules/http.md)";
        }
        L.Pop(1);
        return null;
    }

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
