namespace Assay.Cli.Interactive;

/// <summary>What reading a line ended with.</summary>
public enum LineStatus { Line, Cancelled, EndOfInput }

/// <summary>
/// A small readline for the REPL: cursor movement, history, the usual Emacs keys. On a terminal it
/// reads keys itself (Ctrl-C comes as a key, not a signal, while the prompt is up); with redirected
/// input it reads plain lines, so `assay repl &lt; file` works too.
/// </summary>
public sealed class LineEditor(History history)
{
    readonly bool _terminal = !Console.IsInputRedirected;

    public (LineStatus Status, string Text) ReadLine(string prompt)
    {
        if (!_terminal)
        {
            Console.Out.Write(prompt);
            var line = Console.In.ReadLine();
            return line == null ? (LineStatus.EndOfInput, "") : (LineStatus.Line, line);
        }
        var previous = Console.TreatControlCAsInput;
        Console.TreatControlCAsInput = true;
        try { return ReadKeys(prompt); }
        finally { Console.TreatControlCAsInput = previous; }
    }

    (LineStatus, string) ReadKeys(string prompt)
    {
        var line = new StringBuilder();
        int cursor = 0;
        int historyIndex = history.Count; // one past the newest entry: the line being typed
        string typed = "";
        Console.Out.Write(prompt);
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            bool ctrl = (key.Modifiers & ConsoleModifiers.Control) != 0;
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Console.Out.Write("\n");
                    return (LineStatus.Line, line.ToString());
                case ConsoleKey.Backspace when cursor > 0:
                    line.Remove(--cursor, 1);
                    break;
                case ConsoleKey.Delete when cursor < line.Length:
                    line.Remove(cursor, 1);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < line.Length:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = line.Length;
                    break;
                case ConsoleKey.UpArrow or ConsoleKey.DownArrow:
                {
                    int next = historyIndex + (key.Key == ConsoleKey.UpArrow ? -1 : 1);
                    if (next < 0 || next > history.Count) break;
                    if (historyIndex == history.Count) typed = line.ToString();
                    historyIndex = next;
                    line.Clear().Append(historyIndex == history.Count ? typed : history[historyIndex]);
                    cursor = line.Length;
                    break;
                }
                default:
                    if (ctrl || key.KeyChar < ' ')
                    {
                        switch (char.ToLowerInvariant(ControlLetter(key)))
                        {
                            case 'c':
                                Console.Out.Write("^C\n");
                                return (LineStatus.Cancelled, "");
                            case 'd' when line.Length == 0:
                                Console.Out.Write("\n");
                                return (LineStatus.EndOfInput, "");
                            case 'd' when cursor < line.Length: line.Remove(cursor, 1); break;
                            case 'a': cursor = 0; break;
                            case 'e': cursor = line.Length; break;
                            case 'b' when cursor > 0: cursor--; break;
                            case 'f' when cursor < line.Length: cursor++; break;
                            case 'u': line.Remove(0, cursor); cursor = 0; break;
                            case 'k': line.Length = cursor; break;
                            case 'w':
                            {
                                int start = cursor;
                                while (start > 0 && line[start - 1] == ' ') start--;
                                while (start > 0 && line[start - 1] != ' ') start--;
                                line.Remove(start, cursor - start);
                                cursor = start;
                                break;
                            }
                            case 'l': Console.Out.Write("\u001b[H\u001b[2J"); break;
                        }
                    }
                    else if (key.KeyChar != '\0')
                    {
                        var text = key.KeyChar == '\t' ? "  " : key.KeyChar.ToString();
                        bool atEnd = cursor == line.Length;
                        line.Insert(cursor, text);
                        cursor += text.Length;
                        if (atEnd) { Console.Out.Write(text); continue; } // typing at the end: no redraw
                    }
                    break;
            }
            Render(prompt, line, cursor);
        }
    }

    /// <summary>The letter of a Ctrl combination, whether the terminal reported it as a key or a control char.</summary>
    static char ControlLetter(ConsoleKeyInfo key) =>
        key.KeyChar is > '\0' and < ' ' ? (char)('a' + key.KeyChar - 1) : (char)('a' + (key.Key - ConsoleKey.A));

    static void Render(string prompt, StringBuilder line, int cursor)
    {
        var sb = new StringBuilder("\r").Append(prompt).Append(line).Append("\u001b[K");
        int back = line.Length - cursor;
        if (back > 0) sb.Append("\u001b[").Append(back).Append('D');
        Console.Out.Write(sb.ToString());
    }
}

/// <summary>Entered chunks, kept in ~/.assay/history (one per line; newlines and backslashes escaped).</summary>
public sealed class History
{
    const int Keep = 1000;
    readonly List<string> _entries = [];
    readonly string? _path;

    public History(string? path)
    {
        _path = path;
        if (path == null || !File.Exists(path)) return;
        try
        {
            foreach (var line in File.ReadLines(path)) _entries.Add(Unescape(line));
            if (_entries.Count > Keep) _entries.RemoveRange(0, _entries.Count - Keep);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public static string DefaultPath() =>
        Path.Combine(Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".assay", "history");

    public int Count => _entries.Count;
    public string this[int i] => _entries[i];

    public void Add(string entry)
    {
        if (entry.Trim().Length == 0 || (_entries.Count > 0 && _entries[^1] == entry)) return;
        _entries.Add(entry);
        if (_path == null) return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            File.AppendAllText(_path, Escape(entry) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n");

    static string Unescape(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length) { sb.Append(s[++i] == 'n' ? '\n' : s[i]); continue; }
            sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
