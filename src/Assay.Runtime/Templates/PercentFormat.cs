namespace Assay.Runtime.Templates;

/// <summary>Python's printf-style <c>%</c> operator on strings (<c>"%-5s|%03d" % (a, b)</c>), also behind the <c>format</c> filter.</summary>
public static class PercentFormat
{
    /// <summary><paramref name="fmt"/> % args: positional <paramref name="args"/>, or <paramref name="named"/> for %(key)s fields.</summary>
    public static string Format(string fmt, List<object?> args, OrderedDictionary<string, object?>? named)
    {
        var sb = new StringBuilder();
        int ai = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            char c = fmt[i];
            if (c != '%') { sb.Append(c); continue; }
            if (++i >= fmt.Length) throw new TemplateException("incomplete format");
            if (fmt[i] == '%') { sb.Append('%'); continue; }
            object? arg;
            if (fmt[i] == '(')
            {
                int close = fmt.IndexOf(')', i);
                if (close < 0 || named == null) throw new TemplateException("format requires a mapping");
                var key = fmt[(i + 1)..close];
                arg = named.TryGetValue(key, out var nv) ? nv : throw new TemplateException($"KeyError: {Py.Repr(key)}");
                i = close + 1;
            }
            else
            {
                arg = null;
            }
            string flags = "";
            while (i < fmt.Length && "-+ 0#".Contains(fmt[i])) flags += fmt[i++];
            int start = i;
            while (i < fmt.Length && char.IsAsciiDigit(fmt[i])) i++;
            int width = i > start ? int.Parse(fmt[start..i], CultureInfo.InvariantCulture) : 0;
            int precision = -1;
            if (i < fmt.Length && fmt[i] == '.')
            {
                i++;
                start = i;
                while (i < fmt.Length && char.IsAsciiDigit(fmt[i])) i++;
                precision = i > start ? int.Parse(fmt[start..i], CultureInfo.InvariantCulture) : 0;
            }
            if (i >= fmt.Length) throw new TemplateException("incomplete format");
            char conv = fmt[i];
            if (named == null || fmt[start > 0 ? start - 1 : 0] != ')')
            {
                if (named == null)
                {
                    if (ai >= args.Count) throw new TemplateException("not enough arguments for format string");
                    arg = args[ai++];
                }
            }
            string body = conv switch
            {
                's' => precision >= 0 ? new string(Py.Str(arg).Take(precision).ToArray()) : Py.Str(arg),
                'r' => Py.Repr(arg),
                'd' or 'i' or 'u' => (arg is double dd ? (long)Math.Truncate(dd) : Py.ToLong(arg)).ToString(CultureInfo.InvariantCulture),
                'f' or 'F' => Py.ToDouble(arg).ToString("F" + (precision < 0 ? 6 : precision), CultureInfo.InvariantCulture),
                'e' => PyExp(Py.ToDouble(arg), precision < 0 ? 6 : precision),
                'x' => Py.ToLong(arg).ToString("x", CultureInfo.InvariantCulture),
                'X' => Py.ToLong(arg).ToString("X", CultureInfo.InvariantCulture),
                'o' => Convert.ToString(Py.ToLong(arg), 8),
                'c' => arg is long cl ? ((char)cl).ToString() : Py.Str(arg),
                _ => throw new TemplateException($"unsupported format character '{conv}'"),
            };
            bool numeric = conv is not ('s' or 'r' or 'c');
            if (numeric && flags.Contains('+') && !body.StartsWith('-')) body = "+" + body;
            else if (numeric && flags.Contains(' ') && !body.StartsWith('-')) body = " " + body;
            if (body.Length < width)
            {
                if (flags.Contains('-')) body = body.PadRight(width);
                else if (flags.Contains('0') && numeric)
                {
                    bool sign = body.Length > 0 && body[0] is '-' or '+' or ' ';
                    body = sign ? body[0] + body[1..].PadLeft(width - 1, '0') : body.PadLeft(width, '0');
                }
                else body = body.PadLeft(width);
            }
            sb.Append(body);
        }
        if (named == null && ai < args.Count && !(args.Count == 1 && args[0] is OrderedDictionary<string, object?>))
            throw new TemplateException("not all arguments converted during string formatting");
        return sb.ToString();
    }

    static string PyExp(double d, int precision)
    {
        var s = d.ToString((precision == 0 ? "0" : "0." + new string('0', precision)) + "e+00", CultureInfo.InvariantCulture);
        return s;
    }
}
