using System.Text.RegularExpressions;

namespace Assay.Runtime.Templates;

public enum TokKind { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, Int, Float, Str, Op, Eof }

public readonly record struct Tok(TokKind Kind, string Value, int Line, object? Literal = null)
{
    public bool Is(TokKind k, string v) => Kind == k && Value == v;
    public bool IsOp(string v) => Kind == TokKind.Op && Value == v;
    public bool IsName(string v) => Kind == TokKind.Name && Value == v;
    public override string ToString() => Kind switch
    {
        TokKind.Eof => "end of template",
        TokKind.VarEnd => "end of print statement",
        TokKind.BlockEnd => "end of statement block",
        TokKind.Data => "template data",
        _ => $"'{Value}'",
    };
}

/// <summary>
/// Splits template source into data and tag tokens, Jinja2's way: newlines normalised, one
/// trailing newline dropped, <c>{%-</c>/<c>-%}</c> whitespace control, <c>{% raw %}</c>, comments.
/// trim_blocks and lstrip_blocks are off (Jinja2's defaults).
/// </summary>
public sealed partial class TemplateLexer
{
    readonly string _src;
    readonly string _name;
    readonly List<Tok> _toks = [];
    int _pos;
    int _line = 1;

    TemplateLexer(string source, string name)
    {
        source = source.Replace("\r\n", "\n").Replace('\r', '\n');
        if (source.EndsWith('\n')) source = source[..^1];
        _src = source;
        _name = name;
    }

    public static List<Tok> Tokenize(string source, string name) => new TemplateLexer(source, name).Run();

    TemplateException Fail(string msg, int line) => new(msg, _name, line);

    [GeneratedRegex(@"\G\{%(-|\+)?\s*raw\s*(-%\}\s*|%\})")]
    private static partial Regex RawBegin();
    [GeneratedRegex(@"\{%(-|\+)?\s*endraw\s*(-%\}\s*|%\})")]
    private static partial Regex RawEnd();

    List<Tok> Run()
    {
        bool stripNext = false;
        while (_pos < _src.Length)
        {
            int next = FindTagStart(_pos);
            string text = _src[_pos..(next < 0 ? _src.Length : next)];
            if (stripNext) text = text.TrimStart();
            stripNext = false;
            if (next < 0) { AddData(text); _pos = _src.Length; break; }
            bool minus = next + 2 < _src.Length && _src[next + 2] == '-';
            if (minus) text = text.TrimEnd();
            AddData(text);
            _line += Count(_src, _pos, next);
            _pos = next;
            char kind = _src[next + 1];
            if (kind == '#')
            {
                int end = _src.IndexOf("#}", next + 2, StringComparison.Ordinal);
                if (end < 0) throw Fail("missing end of comment tag", _line);
                stripNext = _src[end - 1] == '-' && end - 1 >= next + 3;
                _line += Count(_src, next, end + 2);
                _pos = end + 2;
                continue;
            }
            if (kind == '%')
            {
                var raw = RawBegin().Match(_src, next);
                if (raw.Success)
                {
                    var endm = RawEnd().Match(_src, raw.Index + raw.Length);
                    if (!endm.Success) throw Fail("missing end of raw directive", _line);
                    string body = _src[(raw.Index + raw.Length)..endm.Index];
                    if (raw.Groups[2].Value.StartsWith('-')) body = body.TrimStart();
                    if (endm.Groups[1].Value == "-") body = body.TrimEnd();
                    AddData(body);
                    _line += Count(_src, next, endm.Index + endm.Length);
                    _pos = endm.Index + endm.Length;
                    continue;
                }
            }
            bool block = kind == '%';
            _toks.Add(new Tok(block ? TokKind.BlockBegin : TokKind.VarBegin, block ? "{%" : "{{", _line));
            _pos = next + 2;
            if (_pos < _src.Length && (_src[_pos] == '-' || (block && _src[_pos] == '+'))) _pos++;
            stripNext = LexInside(block);
        }
        _toks.Add(new Tok(TokKind.Eof, "", _line));
        return _toks;
    }

    void AddData(string text)
    {
        if (text.Length > 0) _toks.Add(new Tok(TokKind.Data, text, _line));
    }

    static int Count(string s, int from, int to)
    {
        int n = 0;
        for (int i = from; i < to && i < s.Length; i++) if (s[i] == '\n') n++;
        return n;
    }

    int FindTagStart(int from)
    {
        int i = from;
        while (true)
        {
            i = _src.IndexOf('{', i);
            if (i < 0 || i + 1 >= _src.Length) return -1;
            char c = _src[i + 1];
            if (c == '{' || c == '%' || c == '#') return i;
            i++;
        }
    }

    /// <summary>Lexes expression tokens up to the closing delimiter; returns whether it was "-…".</summary>
    bool LexInside(bool block)
    {
        int startLine = _line;
        var brackets = new Stack<char>();
        while (true)
        {
            // whitespace
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) { if (_src[_pos] == '\n') _line++; _pos++; }
            if (_pos >= _src.Length)
                throw Fail(block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'", startLine);
            if (brackets.Count == 0)
            {
                string close = block ? "%}" : "}}";
                if (At("-" + close))
                {
                    _toks.Add(new Tok(block ? TokKind.BlockEnd : TokKind.VarEnd, close, _line));
                    _pos += 3;
                    return true;
                }
                if (block && At("+%}")) { _toks.Add(new Tok(TokKind.BlockEnd, close, _line)); _pos += 3; return false; }
                if (At(close))
                {
                    _toks.Add(new Tok(block ? TokKind.BlockEnd : TokKind.VarEnd, close, _line));
                    _pos += 2;
                    return false;
                }
            }
            char c = _src[_pos];
            if (char.IsLetter(c) || c == '_')
            {
                int s = _pos;
                while (_pos < _src.Length && (char.IsLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
                _toks.Add(new Tok(TokKind.Name, _src[s.._pos], _line));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                LexNumber();
                continue;
            }
            if (c == '\'' || c == '"')
            {
                LexString(c);
                continue;
            }
            string op = _pos + 1 < _src.Length ? _src.Substring(_pos, 2) : "";
            if (op is "//" or "**" or "==" or "!=" or "<=" or ">=")
            {
                _toks.Add(new Tok(TokKind.Op, op, _line));
                _pos += 2;
                continue;
            }
            if ("+-/*%~[](){}<>=.:|,;".Contains(c))
            {
                if (c is '(' or '[' or '{') brackets.Push(c);
                else if (c is ')' or ']' or '}')
                {
                    if (brackets.Count == 0) throw Fail($"unexpected '{c}'", _line);
                    char open = brackets.Pop();
                    if ((open, c) is not (('(', ')') or ('[', ']') or ('{', '}')))
                        throw Fail($"unexpected '{c}', expected '{(open == '(' ? ')' : open == '[' ? ']' : '}')}'", _line);
                }
                _toks.Add(new Tok(TokKind.Op, c.ToString(), _line));
                _pos++;
                continue;
            }
            throw Fail($"unexpected char '{c}' at {_pos}", _line);
        }
    }

    bool At(string s) => string.CompareOrdinal(_src, _pos, s, 0, s.Length) == 0;

    void LexNumber()
    {
        int s = _pos;
        bool afterDot = _toks.Count > 0 && _toks[^1].IsOp(".");
        SkipDigits();
        bool isFloat = false;
        if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            _pos++;
            SkipDigits();
            isFloat = true;
        }
        if (!afterDot && _pos < _src.Length && (_src[_pos] == 'e' || _src[_pos] == 'E'))
        {
            int save = _pos;
            _pos++;
            if (_pos < _src.Length && (_src[_pos] == '+' || _src[_pos] == '-')) _pos++;
            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) { SkipDigits(); isFloat = true; }
            else _pos = save;
        }
        string text = _src[s.._pos].Replace("_", "");
        if (isFloat)
            _toks.Add(new Tok(TokKind.Float, text, _line, double.Parse(text, CultureInfo.InvariantCulture)));
        else if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long l))
            _toks.Add(new Tok(TokKind.Int, text, _line, l));
        else
            _toks.Add(new Tok(TokKind.Float, text, _line, double.Parse(text, CultureInfo.InvariantCulture)));
    }

    void SkipDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || (_src[_pos] == '_' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1])))) _pos++;
    }

    void LexString(char q)
    {
        int startLine = _line;
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length) throw Fail("unexpected end of string", startLine);
            char c = _src[_pos++];
            if (c == q) break;
            if (c == '\n') _line++;
            if (c != '\\' || _pos >= _src.Length) { sb.Append(c); continue; }
            char e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': _line++; break;
                case 'x' when _pos + 2 <= _src.Length && int.TryParse(_src.AsSpan(_pos, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int x):
                    sb.Append((char)x); _pos += 2; break;
                case 'u' when _pos + 4 <= _src.Length && int.TryParse(_src.AsSpan(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int u):
                    sb.Append((char)u); _pos += 4; break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        _toks.Add(new Tok(TokKind.Str, sb.ToString(), startLine, sb.ToString()));
    }
}
