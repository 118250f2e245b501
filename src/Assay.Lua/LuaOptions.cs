using System.Globalization;

namespace Assay.Lua;

/// <summary>
/// An options table a script handed to a builtin, from <see cref="LuaCall.Options"/>: its keys
/// were checked against the builtin's list, and the readers below check each value, failing with
/// "name: option 'key' must be …". Absent options (or no table at all) read as null/the fallback.
/// Raw access only (no metamethod runs), and nothing is allocated unless a value is returned.
/// </summary>
public readonly struct LuaOptions
{
    /// <summary>The largest number of seconds a timeout option takes (~24 days: what timers accept).</summary>
    public const double MaxSeconds = 24 * 24 * 3600;

    readonly LuaState _L;
    readonly int _table;   // absolute index, 0 when no table was given

    internal LuaOptions(LuaState L, int table)
    {
        _L = L;
        _table = table;
    }

    /// <summary>True when a table was given (it may still be empty).</summary>
    public bool Given => _table != 0;

    /// <summary>Pushes the raw value of <paramref name="key"/> (nil when absent) and returns its type.</summary>
    public LuaType Push(string key)
    {
        if (_table == 0)
        {
            _L.PushNil();
            return LuaType.Nil;
        }
        _L.CheckStack(2);
        return _L.RawGetField(_table, key);
    }

    /// <summary>Truthiness, as Lua tests it: any value but nil and false is true.</summary>
    public bool Flag(string key, bool fallback = false)
    {
        if (_table == 0) return fallback;
        var type = Push(key);
        bool value = type == LuaType.Nil ? fallback : _L.ToBoolean(-1);
        _L.Pop(1);
        return value;
    }

    /// <summary>A boolean and nothing else (null when absent).</summary>
    public bool? Boolean(string key)
    {
        if (_table == 0) return null;
        var type = Push(key);
        try
        {
            if (type == LuaType.Nil) return null;
            return type == LuaType.Boolean ? _L.ToBoolean(-1) : throw Bad(key, "a boolean");
        }
        finally { _L.Pop(1); }
    }

    /// <summary>A string (a number is converted); null when absent.</summary>
    public string? String(string key)
    {
        if (_table == 0) return null;
        var type = Push(key);
        try
        {
            if (type == LuaType.Nil) return null;
            return type is LuaType.String or LuaType.Number ? _L.ToStringValue(-1) : throw Bad(key, "a string");
        }
        finally { _L.Pop(1); }
    }

    /// <summary>An integer within [<paramref name="min"/>, <paramref name="max"/>]; null when absent.</summary>
    public long? Integer(string key, long min = long.MinValue, long max = long.MaxValue)
    {
        if (_table == 0) return null;
        var type = Push(key);
        try
        {
            if (type == LuaType.Nil) return null;
            if (_L.TryGetInteger(-1, out long value) && value >= min && value <= max) return value;
            throw Bad(key, "an integer" + Range(min, max, long.MinValue, long.MaxValue));
        }
        finally { _L.Pop(1); }
    }

    /// <summary>A number (not NaN) within [<paramref name="min"/>, <paramref name="max"/>]; null when absent.</summary>
    public double? Number(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity) =>
        ReadNumber(key, min, max, requirement: null);

    /// <summary>
    /// A duration in seconds: finite, at most <paramref name="max"/>, and &gt; 0 when
    /// <paramref name="positive"/> (else ≥ 0); null when absent.
    /// </summary>
    public double? Seconds(string key, bool positive = false, double max = MaxSeconds) =>
        ReadNumber(key, positive ? double.Epsilon : 0, max,
            positive ? "a positive number of seconds" : "a finite number of seconds >= 0");

    /// <summary>The number at <paramref name="key"/> within [min, max]; the requirement (null: said from the range) is only for the message.</summary>
    double? ReadNumber(string key, double min, double max, string? requirement)
    {
        if (_table == 0) return null;
        var type = Push(key);
        try
        {
            if (type == LuaType.Nil) return null;
            double value = type == LuaType.Number ? _L.ToNumber(-1) : double.NaN;
            if (value >= min && value <= max) return value;
            throw Bad(key, requirement ?? "a number" + Range(min, max, double.NegativeInfinity, double.PositiveInfinity));
        }
        finally { _L.Pop(1); }
    }

    static string Range<T>(T min, T max, T lowest, T highest) where T : IEquatable<T>, IFormattable
    {
        static string S(T v) => v.ToString(null, CultureInfo.InvariantCulture);
        if (min.Equals(lowest)) return max.Equals(highest) ? "" : $" <= {S(max)}";
        return max.Equals(highest) ? $" >= {S(min)}" : $" from {S(min)} to {S(max)}";
    }

    /// <summary>"option 'key' must be …, got 0" (the value itself when it is a number, else its type); the value is on top.</summary>
    BuiltinError Bad(string key, string requirement)
    {
        var got = _L.TypeOf(-1) == LuaType.Number ? _L.ToStringValue(-1) : Values.LuaTables.TypeName(_L.TypeOf(-1));
        return new($"option '{key}' must be {requirement}, got {got}");
    }

    /// <summary>Fails on the first key of the table at <paramref name="table"/> that <paramref name="allowed"/> does not hold.</summary>
    internal static void CheckKeys(LuaState L, int table, ReadOnlySpan<string> allowed)
    {
        L.CheckStack(3);
        L.PushNil();
        while (L.Next(table))
        {
            bool known = L.TypeOf(-2) == LuaType.String && Contains(allowed, L.ToBytes(-2));
            if (!known)
            {
                var shown = L.TypeOf(-2) switch
                {
                    LuaType.String => L.ToStringValue(-2),
                    LuaType.Number => $"[{L.ToStringValue(-2)}]",
                    var t => $"[{Values.LuaTables.TypeName(t)}]",
                };
                L.Pop(2);
                throw new BuiltinError(allowed.Length == 0
                    ? $"unknown option '{shown}' (it takes none)"
                    : $"unknown option '{shown}' (known: {string.Join(", ", allowed.ToArray())})");
            }
            L.Pop(1);
        }
    }

    /// <summary>Option names are ASCII: compare the Lua string's bytes with them, without decoding.</summary>
    static bool Contains(ReadOnlySpan<string> allowed, ReadOnlySpan<byte> key)
    {
        foreach (var name in allowed)
        {
            if (name.Length != key.Length) continue;
            int i = 0;
            while (i < key.Length && key[i] == name[i]) i++;
            if (i == key.Length) return true;
        }
        return false;
    }
}
