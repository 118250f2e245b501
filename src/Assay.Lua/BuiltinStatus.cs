namespace Assay.Lua;

/// <summary>
/// What a builtin's dispatcher returns to the C trampoline besides a result count (a count is never
/// negative). The C side declares the same numbers as ASSAY_ERROR, ASSAY_PENDING and
/// ASSAY_ERROR_AS_IS in native/assay_native.c; a test reads them back through assay_constant.
/// </summary>
internal static class BuiltinStatus
{
    /// <summary>Error message on top: C raises it with the calling Lua code's file:line in front.</summary>
    public const int Error = -1;
    /// <summary>Pending-operation id on top: C yields it to the event loop, or waits where Lua cannot yield.</summary>
    public const int Pending = -2;
    /// <summary>Error value on top: C raises it unchanged.</summary>
    public const int ErrorAsIs = -3;
}
