namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>base64.encode/decode</c> (standard alphabet, padded) and <c>base64.url_encode/url_decode</c>
/// (RFC 4648 §5 base64url, unpadded). Binary-safe both ways: any bytes in, any bytes out.
/// Reference page: docs/modules/base64.md.
/// </summary>
public static class Base64Module
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("base64",
            ("encode", static call => Push(call, Base64Codec.Encode(call.CheckBytes(1), url: false))),
            ("decode", static call => Decode(call, url: false)),
            ("url_encode", static call => Push(call, Base64Codec.Encode(call.CheckBytes(1), url: true))),
            ("url_decode", static call => Decode(call, url: true)));
    }

    static int Push(LuaCall call, byte[] bytes)
    {
        call.L.PushBytes(bytes);
        return 1;
    }

    static int Decode(LuaCall call, bool url)
    {
        var input = call.CheckBytes(1);
        if (!Base64Codec.TryDecode(input, url, out var bytes, out var problem))
            return call.Fail(problem);
        call.L.PushBytes(bytes);
        return 1;
    }
}

/// <summary>Base64 and base64url with precise error messages (shared by crypto's JWT code).</summary>
public static class Base64Codec
{
    const string Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const string Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static readonly sbyte[] StdMap = Map(Std), UrlMap = Map(Url);

    static sbyte[] Map(string alphabet)
    {
        var map = new sbyte[256];
        Array.Fill(map, (sbyte)-1);
        for (int i = 0; i < alphabet.Length; i++) map[alphabet[i]] = (sbyte)i;
        return map;
    }

    public static byte[] Encode(ReadOnlySpan<byte> data, bool url)
    {
        var alphabet = url ? Url : Std;
        int full = data.Length / 3, rest = data.Length % 3;
        int len = full * 4 + (rest == 0 ? 0 : url ? rest + 1 : 4);
        var output = new byte[len];
        int o = 0, i = 0;
        for (; i + 2 < data.Length; i += 3)
        {
            int n = data[i] << 16 | data[i + 1] << 8 | data[i + 2];
            output[o++] = (byte)alphabet[n >> 18 & 63];
            output[o++] = (byte)alphabet[n >> 12 & 63];
            output[o++] = (byte)alphabet[n >> 6 & 63];
            output[o++] = (byte)alphabet[n & 63];
        }
        if (rest > 0)
        {
            int n = data[i] << 16 | (rest == 2 ? data[i + 1] << 8 : 0);
            output[o++] = (byte)alphabet[n >> 18 & 63];
            output[o++] = (byte)alphabet[n >> 12 & 63];
            if (rest == 2) output[o++] = (byte)alphabet[n >> 6 & 63];
            else if (!url) output[o++] = (byte)'=';
            if (!url) output[o++] = (byte)'=';
        }
        return output;
    }

    public static string EncodeUrlString(ReadOnlySpan<byte> data) => System.Text.Encoding.ASCII.GetString(Encode(data, url: true));

    /// <summary>
    /// Decodes standard base64 (whitespace between groups allowed, padding required unless the
    /// input has none at all) or base64url (padding optional). Non-zero trailing bits are errors,
    /// so every encoding has exactly one decoding.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> input, bool url, out byte[] bytes, out string problem)
    {
        var map = url ? UrlMap : StdMap;
        var output = new byte[input.Length / 4 * 3 + 3];
        int o = 0, acc = 0, bits = 0, count = 0, padding = 0;
        bytes = [];
        for (int i = 0; i < input.Length; i++)
        {
            byte c = input[i];
            if (c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') continue;
            if (c == '=')
            {
                padding++;
                continue;
            }
            int v = map[c];
            if (v < 0 || padding > 0)
            {
                problem = v < 0
                    ? $"invalid character {Show(c)} at position {i + 1}" + (!url && (c == '-' || c == '_') ? " (base64url input? use base64.url_decode)" : url && (c == '+' || c == '/') ? " (standard base64 input? use base64.decode)" : "")
                    : $"data after padding at position {i + 1}";
                return false;
            }
            acc = acc << 6 | v;
            bits += 6;
            count++;
            if (bits >= 8)
            {
                bits -= 8;
                output[o++] = (byte)(acc >> bits);
                acc &= (1 << bits) - 1;
            }
        }
        int tail = count % 4;
        if (tail == 1)
        {
            problem = "truncated input (length is not valid for base64)";
            return false;
        }
        if (padding > 0 && (tail == 0 || tail + padding != 4))
        {
            problem = "incorrect padding";
            return false;
        }
        if (acc != 0)
        {
            problem = "non-zero trailing bits (not a canonical encoding)";
            return false;
        }
        bytes = output.AsSpan(0, o).ToArray();
        problem = "";
        return true;
    }

    static string Show(byte c) => c >= 0x20 && c < 0x7f ? $"'{(char)c}'" : $"0x{c:X2}";
}
