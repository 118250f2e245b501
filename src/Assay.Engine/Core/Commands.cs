namespace Assay.Engine.Core;

/// <summary>
/// One decision a worker submits at the end of a workflow task (docs/engine.md "Commands"). Parsed and
/// validated before any write, so a bad batch is rejected whole.
/// </summary>
public abstract record WorkflowCommand
{
    /// <summary>Ends the run; must be the last command of a batch.</summary>
    public virtual bool IsTerminal => false;
}

public sealed record ScheduleActivityCommand(ActivitySpec Spec) : WorkflowCommand;
public sealed record ScheduleTimerCommand(long Seq, double DurationSecs) : WorkflowCommand;
public sealed record RecordSideEffectCommand(long Seq, string Name, string? Value) : WorkflowCommand;
/// <summary>A versioning marker (ctx:patched / ctx:deprecate_patch): recorded once per patch id.</summary>
public sealed record RecordPatchMarkerCommand(string PatchId, bool Deprecated) : WorkflowCommand;
/// <summary>Starts a child; <paramref name="Priority"/> null: the parent's priority.</summary>
public sealed record StartChildWorkflowCommand(string WorkflowType, string WorkflowId, string? Input, string TaskQueue,
    int? Priority = null) : WorkflowCommand;
public sealed record UpsertSearchAttributesCommand(IReadOnlyList<KeyValuePair<string, string>> Patch) : WorkflowCommand;
public sealed record RecordSnapshotCommand(string? State) : WorkflowCommand;
public sealed record WaitForSignalCommand(string Name) : WorkflowCommand;

public sealed record ContinueAsNewCommand(string? Input) : WorkflowCommand
{
    public override bool IsTerminal => true;
}

public sealed record CompleteWorkflowCommand(string? Result) : WorkflowCommand
{
    public override bool IsTerminal => true;
}

public sealed record FailWorkflowCommand(string Error) : WorkflowCommand
{
    public override bool IsTerminal => true;
}

public sealed record CancelWorkflowCommand : WorkflowCommand
{
    public override bool IsTerminal => true;
}
