namespace Assay.Engine.Core;

/// <summary>
/// An error whose cause is the caller's request, not the engine. The API maps the kind to an HTTP
/// status; the message is written by us (never raw database text), so it is safe to return.
/// </summary>
public class EngineException(ErrorKind kind, string message) : Exception(message)
{
    public ErrorKind Kind { get; } = kind;

    public static EngineException NotFound(string what) => new(ErrorKind.NotFound, $"not found: {what}");
    public static EngineException Conflict(string message) => new(ErrorKind.Conflict, message);
    public static EngineException Invalid(string message) => new(ErrorKind.Invalid, message);
}

public enum ErrorKind
{
    Invalid,   // 400
    NotFound,  // 404
    Conflict,  // 409
}
