namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>url.encode/decode</c> (RFC 3986 percent-encoding of a component), <c>url.parse(url)</c>
/// (RFC 3986 §3 split, query decoded into <c>params</c>) and <c>url.build_query(table)</c>.
/// Reference page: docs/modules/url.md.
/// </summary>
public static class UrlModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("url",
            ("encode", static call =>
            {
                call.L.PushBytes(PercentEncode(call.CheckBytes(1), spaceAsPlus: false));
                return 1;
            }),
            ("decode", static call =>
            {
                bool plus = call.OptBoolean(2, false);
                if (!TryPercentDecode(call.CheckBytes(1), plus, out var bytes, out var problem))
                    return call.Fail(problem);
                call.L.PushBytes(bytes);
                return 1;
            }),
            ("parse", Parse),
            ("build_query", BuildQuery));
    }

    static bool Unreserved(byte c) =>
        c is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~';

    /// <summary>Everything but RFC 3986 unreserved characters becomes %XX (uppercase hex).</summary>
    public static byte[] PercentEncode(ReadOnlySpan<byte> input, bool spaceAsPlus)
    {
        var output = new List<byte>(input.Length + 8);
        foreach (var c in input)
        {
            if (Unreserved(c)) output.Add(c);
            else if (c == ' ' && spaceAsPlus) output.Add((byte)'+');
            else
            {
                output.Add((byte)'%');
                output.Add((byte)"0123456789ABCDEF"[c >> 4]);
                output.Add((byte)"0123456789ABCDEF"[c & 15]);
            }
        }
        return [.. output];
    }

    public static bool TryPercentDecode(ReadOnlySpan<byte> input, bool plusAsSpace, out byte[] bytes, out string problem)
    {
        var output = new byte[input.Length];
        int o = 0;
        for (int i = 0; i < input.Length; i++)
        {
            byte c = input[i];
            if (c == '%')
            {
                int hi = i + 1 < input.Length ? HexDigit(input[i + 1]) : -1;
                int lo = i + 2 < input.Length ? HexDigit(input[i + 2]) : -1;
                if (hi < 0 || lo < 0)
                {
                    bytes = [];
                    problem = $"invalid percent-encoding at position {i + 1}";
                    return false;
                }
                output[o++] = (byte)(hi << 4 | lo);
                i += 2;
            }
            else output[o++] = c == '+' && plusAsSpace ? (byte)' ' : c;
        }
        bytes = output.AsSpan(0, o).ToArray();
        problem = "";
        return true;
    }

    static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    static string Decode(string s, bool plus) =>
        TryPercentDecode(Encoding.UTF8.GetBytes(s), plus, out var b, out var problem)
            ? Encoding.UTF8.GetString(b)
            : throw new BuiltinError($"{problem} in \"{s}\"");

    /// <summary>
    /// {scheme, user, password, host, port, path, query, fragment, params, query_pairs}. Absent
    /// parts are nil; <c>port</c> is an integer; <c>params</c> maps each query key to its first
    /// value (form decoding: '+' is a space); <c>query_pairs</c> keeps every pair in order.
    /// </summary>
    static int Parse(LuaCall call)
    {
        var text = call.CheckString(1);
        var L = call.L;
        string rest = text;
        string? scheme = null, authority = null, query = null, fragment = null;
        int hash = rest.IndexOf('#');
        if (hash >= 0) { fragment = rest[(hash + 1)..]; rest = rest[..hash]; }
        int q = rest.IndexOf('?');
        if (q >= 0) { query = rest[(q + 1)..]; rest = rest[..q]; }
        int colon = rest.IndexOf(':');
        if (colon > 0 && char.IsAsciiLetter(rest[0]) && rest[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')
            && rest.IndexOf('/') is var slash && (slash < 0 || slash > colon))
        {
            scheme = rest[..colon].ToLowerInvariant();
            rest = rest[(colon + 1)..];
        }
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            int end = rest.IndexOf('/', 2);
            if (end < 0) end = rest.Length;
            authority = rest[2..end];
            rest = rest[end..];
        }
        string? user = null, password = null, host = null;
        long port = -1;
        if (authority != null)
        {
            int at = authority.LastIndexOf('@');
            string hostPort = authority;
            if (at >= 0)
            {
                var info = authority[..at];
                hostPort = authority[(at + 1)..];
                int c = info.IndexOf(':');
                user = Decode(c >= 0 ? info[..c] : info, false);
                if (c >= 0) password = Decode(info[(c + 1)..], false);
            }
            string? portText = null;
            if (hostPort.StartsWith('['))
            {
                int close = hostPort.IndexOf(']');
                if (close < 0) return call.Fail($"unterminated IPv6 address in \"{text}\"");
                host = hostPort[1..close];
                if (close + 1 < hostPort.Length)
                {
                    if (hostPort[close + 1] != ':') return call.Fail($"unexpected text after IPv6 address in \"{text}\"");
                    portText = hostPort[(close + 2)..];
                }
            }
            else
            {
                int c = hostPort.LastIndexOf(':');
                host = c >= 0 ? hostPort[..c] : hostPort;
                if (c >= 0) portText = hostPort[(c + 1)..];
            }
            host = Decode(host, false).ToLowerInvariant();
            if (!string.IsNullOrEmpty(portText))
            {
                if (!portText.All(char.IsAsciiDigit) || !long.TryParse(portText, out port) || port > 65535)
                    return call.Fail($"invalid port \"{portText}\" in \"{text}\"");
            }
        }
        if (port < 0 && scheme != null) port = DefaultPort(scheme);

        L.CheckStack(6);
        L.NewTable(0, 10);
        void Field(string name, string? value)
        {
            if (value == null) return;
            L.PushString(value);
            L.RawSetField(-2, name);
        }
        Field("scheme", scheme);
        Field("user", user);
        Field("password", password);
        Field("host", host);
        if (port >= 0) { L.PushInteger(port); L.RawSetField(-2, "port"); }
        Field("path", rest);
        Field("query", query);
        Field("fragment", fragment);
        L.NewTable();
        L.NewTable();
        int n = 0;
        if (!string.IsNullOrEmpty(query))
        {
            foreach (var part in query.Split('&'))
            {
                if (part.Length == 0) continue;
                int eq = part.IndexOf('=');
                if (!TryPercentDecode(Encoding.UTF8.GetBytes(eq >= 0 ? part[..eq] : part), true, out var key, out var problem) ||
                    !TryPercentDecode(Encoding.UTF8.GetBytes(eq >= 0 ? part[(eq + 1)..] : ""), true, out var value, out problem))
                    return call.Fail($"{problem} in query \"{query}\"");
                // query_pairs[n] = {key, value}
                L.NewTable(2, 0);
                L.PushBytes(key); L.RawSetIndex(-2, 1);
                L.PushBytes(value); L.RawSetIndex(-2, 2);
                L.RawSetIndex(-2, ++n);
                // params[key] = value, first one wins
                L.PushBytes(key);
                if (L.RawGet(-3) == LuaType.Nil)
                {
                    L.Pop(1);
                    L.PushBytes(value);
                    L.RawSetField(-3, key);
                }
                else L.Pop(1);
            }
        }
        L.RawSetField(-3, "query_pairs");
        L.RawSetField(-2, "params");
        return 1;
    }

    static long DefaultPort(string scheme) => scheme switch
    {
        "http" or "ws" => 80,
        "https" or "wss" => 443,
        "ftp" => 21,
        "ssh" => 22,
        "postgres" or "postgresql" => 5432,
        "mysql" => 3306,
        "redis" => 6379,
        _ => -1,
    };

    /// <summary>
    /// {k = v} → "k=v&amp;..." with keys sorted; a list value repeats the key; booleans and numbers
    /// are written as Lua writes them; nested tables are errors.
    /// </summary>
    static int BuildQuery(LuaCall call)
    {
        var L = call.L;
        call.CheckType(1, LuaType.Table, "table");
        L.CheckStack(6);
        var pairs = new List<(byte[] Key, byte[] Value)>();
        L.PushNil();
        while (L.Next(1))
        {
            byte[] key = L.TypeOf(-2) switch
            {
                LuaType.String => L.ToBytes(-2).ToArray(),
                LuaType.Number => Encoding.UTF8.GetBytes(L.ToStringValue(-2)!),
                var t => throw new BuiltinError($"unsupported key type {t.ToString().ToLowerInvariant()}"),
            };
            if (L.TypeOf(-1) == LuaType.Table)
            {
                long len = (long)L.RawLength(-1), entries = 0;
                L.PushNil();
                while (L.Next(-2)) { entries++; L.Pop(1); }
                if (entries != len)
                    throw new BuiltinError($"value of '{Encoding.UTF8.GetString(key)}' must be a string, number, boolean or list of them, got a table with non-list keys");
                for (long i = 1; i <= len; i++)
                {
                    L.RawGetIndex(-1, i);
                    pairs.Add((key, Scalar(L, Encoding.UTF8.GetString(key))));
                    L.Pop(1);
                }
            }
            else pairs.Add((key, Scalar(L, Encoding.UTF8.GetString(key))));
            L.Pop(1);
        }
        pairs.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        var output = new List<byte>();
        foreach (var (k, v) in pairs)
        {
            if (output.Count > 0) output.Add((byte)'&');
            output.AddRange(PercentEncode(k, false));
            output.Add((byte)'=');
            output.AddRange(PercentEncode(v, false));
        }
        L.PushBytes(output.ToArray());
        return 1;
    }

    static byte[] Scalar(LuaState L, string key) => L.TypeOf(-1) switch
    {
        LuaType.String => L.ToBytes(-1).ToArray(),
        LuaType.Number => Encoding.UTF8.GetBytes(L.ToStringValue(-1)!),
        LuaType.Boolean => L.ToBoolean(-1) ? "true"u8.ToArray() : "false"u8.ToArray(),
        var t => throw new BuiltinError($"value of '{key}' must be a string, number, boolean or list of them, got {t.ToString().ToLowerInvariant()}"),
    };
}
