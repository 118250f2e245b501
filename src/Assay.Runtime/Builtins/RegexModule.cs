using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>regex.*</c> with the original's argument order (text, pattern): match, find, find_all,
/// replace, replace_first, split, escape. Patterns are compiled once and cached. Matching is
/// linear-time (<see cref="RegexOptions.NonBacktracking"/>); patterns that need backtracking
/// (look-around, backreferences) fall back to the backtracking engine under a match timeout.
/// Offsets are 1-based byte positions, like string.find. Reference page: docs/modules/regex.md.
/// </summary>
public static class RegexModule
{
    /// <summary>Bound for the backtracking fallback (catastrophic patterns end with an error).</summary>
    public static TimeSpan BacktrackingTimeout { get; set; } = TimeSpan.FromSeconds(1);
    const int CacheLimit = 512;
    static readonly ConcurrentDictionary<string, Pattern> Cache = new();

    public static void Register(AssayRuntime rt)
    {
        rt.Vm.RegisterModule("regex",
            ("match", static call =>
            {
                var (text, re) = Args(call);
                call.L.PushBoolean(Run(() => re.IsMatch(text.Value)));
                return 1;
            }),
            ("find", Find),
            ("find_all", FindAll),
            ("replace", static call => Replace(call, all: true)),
            ("replace_first", static call => Replace(call, all: false)),
            ("split", Split),
            ("escape", static call =>
            {
                call.L.PushString(Regex.Escape(call.CheckString(1)));
                return 1;
            }));
        rt.RunPrelude("regex");
    }

    /// <summary>
    /// Lua text as a .NET string. Valid UTF-8 is decoded; other bytes map 1:1 to chars (Latin-1)
    /// so that binary text round-trips exactly and offsets stay true.
    /// </summary>
    readonly struct Text(string value, bool utf8)
    {
        public string Value { get; } = value;
        public bool Utf8 { get; } = utf8;

        public static Text From(ReadOnlySpan<byte> bytes) =>
            System.Text.Unicode.Utf8.IsValid(bytes) ? new(Encoding.UTF8.GetString(bytes), true) : new(Encoding.Latin1.GetString(bytes), false);

        public void Push(LuaState L, ReadOnlySpan<char> s)
        {
            if (Utf8) L.PushString(s.ToString());
            else L.PushBytes(Encoding.Latin1.GetBytes(s.ToArray()));
        }

        public int ByteCount(ReadOnlySpan<char> s) => Utf8 ? Encoding.UTF8.GetByteCount(s) : s.Length;
    }

    /// <summary>Maps char offsets to byte offsets incrementally (matches come in order).</summary>
    sealed class Offsets(Text text)
    {
        int _char, _byte;
        public int ByteOffset(int charIndex)
        {
            if (charIndex < _char) { _char = 0; _byte = 0; }
            _byte += text.ByteCount(text.Value.AsSpan(_char, charIndex - _char));
            _char = charIndex;
            return _byte;
        }
    }

    static (Text Text, Pattern Re) Args(LuaCall call)
    {
        var text = Text.From(call.CheckBytes(1));
        var pattern = call.CheckString(2);
        return (text, Compile(pattern));
    }

    /// <summary>
    /// A compiled pattern and its capture groups in textual order. .NET numbers named groups after
    /// all unnamed ones; the original (like PCRE and Rust) numbers every group by its opening
    /// parenthesis, so <c>Order[i]</c> maps that number to .NET's.
    /// </summary>
    sealed class Pattern(Regex re, int[] order, string?[] names)
    {
        public Regex Re { get; } = re;
        public int[] Order { get; } = order;
        public string?[] Names { get; } = names;

        public bool IsMatch(string s) => Re.IsMatch(s);
        public Match Match(string s, int start = 0) => Re.Match(s, start);

        /// <summary>$n / ${n} by textual number, ${name} / $name by name, $$ a dollar; other $ literal.</summary>
        public string TranslateReplacement(string repl)
        {
            var sb = new StringBuilder(repl.Length + 8);
            for (int i = 0; i < repl.Length; i++)
            {
                char c = repl[i];
                if (c != '$' || i + 1 >= repl.Length) { sb.Append(c == '$' ? "$$" : c.ToString()); continue; }
                char next = repl[i + 1];
                if (next == '$') { sb.Append("$$"); i++; continue; }
                int j = i + 1;
                string token;
                bool braced = next == '{';
                if (braced)
                {
                    int close = repl.IndexOf('}', i + 2);
                    if (close < 0) { sb.Append("$$"); continue; }
                    token = repl[(i + 2)..close];
                    j = close + 1;
                }
                else if (char.IsAsciiDigit(next))
                {
                    while (j < repl.Length && char.IsAsciiDigit(repl[j])) j++;
                    token = repl[(i + 1)..j];
                }
                else if (char.IsAsciiLetter(next) || next == '_')
                {
                    while (j < repl.Length && (char.IsAsciiLetterOrDigit(repl[j]) || repl[j] == '_')) j++;
                    token = repl[(i + 1)..j];
                }
                else { sb.Append("$$"); continue; }
                if (token.Length > 0 && token.All(char.IsAsciiDigit))
                {
                    if (int.TryParse(token, out int n) && n < Order.Length) sb.Append("${").Append(Order[n]).Append('}');
                    // a group that does not exist expands to nothing, as in the original
                }
                else if (Array.IndexOf(Names, token) >= 0) sb.Append("${").Append(token).Append('}');
                i = j - 1;
            }
            return sb.ToString();
        }
    }

    /// <summary>
    /// Finds the capture groups in textual order and rewrites Python/Rust-style <c>(?P&lt;name&gt;</c>
    /// to .NET's <c>(?&lt;name&gt;</c>. Escapes and character classes are skipped.
    /// </summary>
    static (string Translated, List<string?> Captures) Scan(string p)
    {
        var sb = new StringBuilder(p.Length);
        var captures = new List<string?>();
        bool inClass = false;
        for (int i = 0; i < p.Length; i++)
        {
            char c = p[i];
            if (c == '\\' && i + 1 < p.Length) { sb.Append(c).Append(p[++i]); continue; }
            if (inClass)
            {
                if (c == ']') inClass = false;
                sb.Append(c);
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                sb.Append(c);
                if (i + 1 < p.Length && p[i + 1] == '^') sb.Append(p[++i]);
                if (i + 1 < p.Length && p[i + 1] == ']') sb.Append(p[++i]);
                continue;
            }
            if (c == '(')
            {
                if (i + 1 >= p.Length || p[i + 1] != '?') captures.Add(null);
                else
                {
                    int nameStart = -1;
                    char closer = '>';
                    if (p.AsSpan(i + 1).StartsWith("?P<"))
                    {
                        sb.Append("(?<");
                        i += 3;
                        int end = p.IndexOf('>', i + 1);
                        if (end > i + 1) captures.Add(p[(i + 1)..end]);
                        continue;
                    }
                    if (p.AsSpan(i + 1).StartsWith("?<") && i + 3 < p.Length && p[i + 3] != '=' && p[i + 3] != '!') nameStart = i + 3;
                    else if (p.AsSpan(i + 1).StartsWith("?'")) { nameStart = i + 3; closer = '\''; }
                    if (nameStart >= 0)
                    {
                        int end = p.IndexOf(closer, nameStart);
                        if (end > nameStart) captures.Add(p[nameStart..end]);
                    }
                }
            }
            sb.Append(c);
        }
        return (sb.ToString(), captures);
    }

    static Pattern Compile(string pattern)
    {
        if (Cache.TryGetValue(pattern, out var cached)) return cached;
        var (translated, captures) = Scan(pattern);
        Regex re;
        try
        {
            re = new Regex(translated, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (NotSupportedException)
        {
            re = Fallback(translated);
        }
        catch (ArgumentException e)
        {
            throw new BuiltinError($"invalid pattern: {e.Message}");
        }
        var order = new int[captures.Count + 1];
        int unnamed = 0;
        for (int i = 0; i < captures.Count; i++)
            order[i + 1] = captures[i] is { } name ? re.GroupNumberFromName(name) : ++unnamed;
        var names = new string?[captures.Count + 1];
        for (int i = 0; i < captures.Count; i++) names[i + 1] = captures[i];
        var compiled = new Pattern(re, order, names);
        if (Cache.Count >= CacheLimit) Cache.Clear();
        Cache[pattern] = compiled;
        return compiled;
    }

    static Regex Fallback(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, BacktrackingTimeout);
        }
        catch (ArgumentException e)
        {
            throw new BuiltinError($"invalid pattern: {e.Message}");
        }
    }

    static T Run<T>(Func<T> match)
    {
        try { return match(); }
        catch (RegexMatchTimeoutException)
        {
            throw new BuiltinError($"pattern took longer than {BacktrackingTimeout.TotalSeconds:0.###} s (catastrophic backtracking?)");
        }
    }

    /// <summary>{match, start, end, groups = {...}, named = {...}}; start/end are 1-based inclusive bytes.</summary>
    static void PushMatch(LuaState L, Pattern re, Match m, Text text, Offsets offsets)
    {
        L.CheckStack(6);
        L.NewTable(0, 5);
        text.Push(L, m.ValueSpan);
        L.RawSetField(-2, "match");
        int start = offsets.ByteOffset(m.Index);
        L.PushInteger(start + 1);
        L.RawSetField(-2, "start");
        L.PushInteger(start + text.ByteCount(m.ValueSpan));
        L.RawSetField(-2, "end");
        L.NewTable(Math.Max(0, re.Order.Length - 1), 0);
        L.NewTable();
        for (int g = 1; g < re.Order.Length; g++)
        {
            var group = m.Groups[re.Order[g]];
            if (!group.Success) continue;   // unmatched optional group: a hole, as in the original
            text.Push(L, group.ValueSpan);
            L.RawSetIndex(-3, g);
            if (re.Names[g] is { } name)
            {
                text.Push(L, group.ValueSpan);
                L.RawSetField(-2, name);
            }
        }
        L.RawSetField(-3, "named");
        L.RawSetField(-2, "groups");
    }

    /// <summary>regex.find(text, pattern, init?) → match table or nil. init is a 1-based byte offset.</summary>
    static int Find(LuaCall call)
    {
        var (text, re) = Args(call);
        long init = call.OptInteger(3, 1);
        int startChar = CharIndexOf(text, init);
        if (startChar < 0)
        {
            call.L.PushNil();
            return 1;
        }
        var m = Run(() => re.Match(text.Value, startChar));
        if (!m.Success) call.L.PushNil();
        else PushMatch(call.L, re, m, text, new Offsets(text));
        return 1;
    }

    /// <summary>A 1-based byte offset (negative: from the end) as a char index; -1 when past the end.</summary>
    static int CharIndexOf(Text text, long init)
    {
        long byteLen = text.ByteCount(text.Value);
        if (init < 0) init = Math.Max(1, byteLen + init + 1);
        if (init == 0) init = 1;
        if (init > byteLen + 1) return -1;
        if (!text.Utf8) return (int)(init - 1);
        long bytes = 0;
        for (int i = 0; i < text.Value.Length; i++)
        {
            if (bytes >= init - 1)
            {
                if (bytes != init - 1) throw new BuiltinError($"init {init} is inside a UTF-8 character");
                return i;
            }
            bytes += Encoding.UTF8.GetByteCount(text.Value.AsSpan(i, char.IsHighSurrogate(text.Value[i]) && i + 1 < text.Value.Length ? 2 : 1));
            if (char.IsHighSurrogate(text.Value[i])) i++;
        }
        if (bytes != init - 1) throw new BuiltinError($"init {init} is inside a UTF-8 character");
        return text.Value.Length;
    }

    /// <summary>regex.find_all(text, pattern, opts?) → list of strings, or of match tables with {groups = true}.</summary>
    static int FindAll(LuaCall call)
    {
        var (text, re) = Args(call);
        var L = call.L;
        var options = call.Options(3, ["groups", "limit"]);
        bool details = options.Flag("groups");
        long limit = options.Integer("limit", min: 0) ?? long.MaxValue;
        var offsets = new Offsets(text);
        L.CheckStack(4);
        L.NewTable();
        long n = 0;
        Run(() =>
        {
            for (var m = re.Match(text.Value); m.Success && n < limit; m = m.NextMatch())
            {
                if (details) PushMatch(L, re, m, text, offsets);
                else text.Push(L, m.ValueSpan);
                L.RawSetIndex(-2, ++n);
            }
            return 0;
        });
        return 1;
    }

    /// <summary>regex.replace(text, pattern, replacement) → new text, count. $1, ${name}, $$ expand.</summary>
    static int Replace(LuaCall call, bool all)
    {
        var (text, re) = Args(call);
        var replacement = call.L.TypeOf(3) == LuaType.String
            ? Text.From(call.L.ToBytes(3)).Value
            : call.L.TypeOf(3) == LuaType.Number ? call.CheckString(3)
            : throw call.TypeError(3, "string");
        int count = 0;
        var translated = re.TranslateReplacement(replacement);
        var result = Run(() => re.Re.Replace(text.Value, m =>
        {
            count++;
            return m.Result(translated);
        }, all ? -1 : 1));
        text.Push(call.L, result);
        call.L.PushInteger(count);
        return 2;
    }

    /// <summary>regex.split(text, pattern, limit?) → list of the pieces between matches.</summary>
    static int Split(LuaCall call)
    {
        var (text, re) = Args(call);
        long limit = call.OptInteger(3, 0);
        if (limit < 0) return call.Fail("limit must be >= 0 (0 means no limit)");
        var L = call.L;
        L.CheckStack(4);
        L.NewTable();
        long n = 0;
        int last = 0;
        Run(() =>
        {
            for (var m = re.Match(text.Value); m.Success; m = m.NextMatch())
            {
                if (limit > 0 && n >= limit - 1) break;
                if (m.Length == 0 && (m.Index == 0 || m.Index == text.Value.Length)) continue;
                text.Push(L, text.Value.AsSpan(last, m.Index - last));
                L.RawSetIndex(-2, ++n);
                last = m.Index + m.Length;
            }
            return 0;
        });
        text.Push(L, text.Value.AsSpan(last));
        L.RawSetIndex(-2, ++n);
        return 1;
    }
}
