using System.Text.Json;

namespace Assay.Runtime;

public enum LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 }
public enum LogFormat { Text, Json }

/// <summary>
/// Structured logs to stderr (stdout belongs to the script). Text is for people, one JSON object
/// per line is for log shippers; both carry a timestamp, the level, the message and the fields.
/// </summary>
public sealed class Logger(LogLevel minimum = LogLevel.Info, LogFormat format = LogFormat.Text, TextWriter? output = null)
{
    // Console.Error is looked up on first use: setting up the console costs ~0.3 ms of a cold start
    // that most scripts (which never log) need not pay.
    TextWriter Out => output ?? Console.Error;
    readonly object _gate = new();

    public LogLevel Minimum { get; set; } = minimum;
    public LogFormat Format { get; set; } = format;

    public bool IsEnabled(LogLevel level) => level >= Minimum;

    public void Log(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null)
    {
        if (!IsEnabled(level)) return;
        var line = Format == LogFormat.Json ? JsonLine(level, message, fields) : TextLine(level, message, fields);
        lock (_gate)
        {
            Out.Write(line);
            Out.Flush();
        }
    }

    public void Debug(string m) => Log(LogLevel.Debug, m);
    public void Info(string m) => Log(LogLevel.Info, m);
    public void Warn(string m) => Log(LogLevel.Warn, m);
    public void Error(string m) => Log(LogLevel.Error, m);

    static string Name(LogLevel level) => level switch
    {
        LogLevel.Debug => "DEBUG", LogLevel.Info => "INFO", LogLevel.Warn => "WARN", _ => "ERROR",
    };

    static string Timestamp() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    static string TextLine(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields)
    {
        var sb = new StringBuilder();
        sb.Append(Timestamp()).Append(' ').Append(Name(level).PadRight(5)).Append(' ').Append(message);
        if (fields != null)
            foreach (var (k, v) in fields)
                sb.Append(' ').Append(k).Append('=').Append(v.Contains(' ') || v.Length == 0 ? JsonSerializer.Serialize(v, RuntimeJsonContext.Default.String) : v);
        return sb.Append('\n').ToString();
    }

    static string JsonLine(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("ts", Timestamp());
            w.WriteString("level", Name(level).ToLowerInvariant());
            w.WriteString("msg", message);
            if (fields != null) foreach (var (k, v) in fields) w.WriteString(k, v);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal partial class RuntimeJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
