namespace Assay.Runtime;

/// <summary>
/// An approval gate that halted a run (tool.approve, assay.openclaw's gates:approve): its prompt
/// and its context as JSON text. It travels to the host as this value, not as error text, so no
/// pcall in the script can swallow it (see ToolModule).
/// </summary>
public sealed record ApprovalRequest(string Prompt, string ContextJson);
