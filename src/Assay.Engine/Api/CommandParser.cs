namespace Assay.Engine.Api;

/// <summary>
/// Turns a submitted command batch into typed commands, rejecting the whole batch on the first
/// problem (nothing is applied). Field defaults follow the reference; what has no sensible
/// default (an activity without a name, a seq-less timer) is an error rather than a silent 0.
/// </summary>
internal static class CommandParser
{
    public static IReadOnlyList<WorkflowCommand> Parse(JsonElement? commands)
    {
        if (commands is null) return [];
        var list = commands.Value;
        if (list.ValueKind == JsonValueKind.Object && !list.EnumerateObject().Any()) return []; // {} from some encoders
        if (list.ValueKind != JsonValueKind.Array) throw EngineException.Invalid("'commands' must be an array");

        var result = new List<WorkflowCommand>();
        var index = 0;
        foreach (var element in list.EnumerateArray())
        {
            index++;
            if (element.ValueKind != JsonValueKind.Object)
                throw EngineException.Invalid($"command {index} must be a JSON object");
            try
            {
                var command = ParseOne(JsonBody.FromElement(element));
                if (result.Count > 0 && result[^1].IsTerminal)
                    throw EngineException.Invalid("nothing may follow a command that ends the workflow");
                result.Add(command);
            }
            catch (EngineException e) when (e.Kind == ErrorKind.Invalid)
            {
                throw EngineException.Invalid($"command {index}: {e.Message}");
            }
        }
        return result;
    }

    static WorkflowCommand ParseOne(JsonBody c)
    {
        var type = c.RequiredString("type");
        return type switch
        {
            "ScheduleActivity" => new ScheduleActivityCommand(ParseActivity(c, defaultQueue: "default")),
            "ScheduleTimer" => new ScheduleTimerCommand(Seq(c), c.Duration("duration_secs", allowZero: true) ?? 0),
            "RecordSideEffect" => new RecordSideEffectCommand(Seq(c), c.String("name") ?? "", c.Raw("value")),
            "RecordPatchMarker" => new RecordPatchMarkerCommand(c.RequiredId("patch_id"), c.Bool("deprecated") ?? false),
            "StartChildWorkflow" => new StartChildWorkflowCommand(c.RequiredString("workflow_type"), c.RequiredId("workflow_id"),
                c.Raw("input"), c.String("task_queue") ?? "default", c.Priority()),
            "UpsertSearchAttributes" => new UpsertSearchAttributesCommand(c.Object("patch") ?? []),
            "RecordSnapshot" => new RecordSnapshotCommand(c.Raw("state")),
            "WaitForSignal" => new WaitForSignalCommand(c.RequiredId("name")),
            "ContinueAsNew" => new ContinueAsNewCommand(c.Raw("input")),
            "CompleteWorkflow" => new CompleteWorkflowCommand(c.Raw("result")),
            "FailWorkflow" => new FailWorkflowCommand(c.String("error") ?? "workflow handler raised an error"),
            "CancelWorkflow" => new CancelWorkflowCommand(),
            _ => throw EngineException.Invalid($"unknown command type '{type}'"),
        };
    }

    /// <summary>Activity options, shared by the ScheduleActivity command and the REST schedule endpoint.</summary>
    public static ActivitySpec ParseActivity(JsonBody c, string? defaultQueue)
    {
        var maxAttempts = c.Long("max_attempts") ?? 3;
        if (maxAttempts < 1) throw EngineException.Invalid("'max_attempts' must be at least 1");
        var coefficient = c.Double("backoff_coefficient") ?? 2.0;
        if (coefficient < 1) throw EngineException.Invalid("'backoff_coefficient' must be at least 1");
        var startToClose = c.Duration("start_to_close_secs", allowZero: false) ?? 300;
        return new ActivitySpec(
            Seq: Seq(c),
            Name: c.RequiredString("name"),
            TaskQueue: defaultQueue is null ? c.RequiredString("task_queue") : c.String("task_queue") ?? defaultQueue,
            Input: c.Raw("input"),
            MaxAttempts: maxAttempts,
            InitialIntervalSecs: c.Duration("initial_interval_secs", allowZero: true) ?? 1.0,
            BackoffCoefficient: coefficient,
            MaxIntervalSecs: c.Duration("max_interval_secs", allowZero: true),
            StartToCloseSecs: startToClose,
            HeartbeatTimeoutSecs: c.Duration("heartbeat_timeout_secs", allowZero: false),
            NonRetryableErrorTypes: c.StringArray("non_retryable_error_types"),
            Priority: c.Priority());
    }

    static long Seq(JsonBody c)
    {
        var seq = c.Long("seq") ?? throw EngineException.Invalid("'seq' is required");
        if (seq < 0) throw EngineException.Invalid("'seq' must not be negative");
        return seq;
    }
}
