namespace Assay.Runtime.Builtins;

/// <summary><c>hex.encode(bytes)</c> → lowercase hex; <c>hex.decode(text)</c> → bytes (either case).</summary>
public static class HexModule
{
    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("hex",
            ("encode", static call =>
            {
                call.L.PushString(Convert.ToHexStringLower(call.CheckBytes(1)));
                return 1;
            }),
            ("decode", static call =>
            {
                var text = call.CheckBytes(1);
                if (text.Length % 2 != 0)
                    return call.Fail($"odd number of digits ({text.Length})");
                var bytes = new byte[text.Length / 2];
                for (int i = 0; i < text.Length; i++)
                {
                    int v = Digit(text[i]);
                    if (v < 0)
                        return call.Fail($"invalid hex digit {(text[i] >= 0x20 && text[i] < 0x7f ? $"'{(char)text[i]}'" : $"0x{text[i]:X2}")} at position {i + 1}");
                    bytes[i / 2] |= (byte)(i % 2 == 0 ? v << 4 : v);
                }
                call.L.PushBytes(bytes);
                return 1;
            }));
    }

    static int Digit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
