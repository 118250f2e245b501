using System.Text.Json;
using Assay.Engine.Core;

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
            "ScheduleTimer" => new ScheduleTimerCommand(Seq(c), NonNegative(c, "duration_secs") ?? 0),
            "RecordSideEffect" => new RecordSideEffectCommand(Seq(c), c.String("name") ?? "", c.Raw("value")),
            "StartChildWorkflow" => new StartChildWorkflowCommand(c.RequiredString("workflow_type"), c.RequiredString("workflow_id"),
                c.Raw("input"), c.String("task_queue") ?? "default"),
            "UpsertSearchAttributes" => new UpsertSearchAttributesCommand(c.Object("patch") ?? []),
            "RecordSnapshot" => new RecordSnapshotCommand(c.Raw("state")),
            "WaitForSignal" => new WaitForSignalCommand(c.RequiredString("name")),
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
        var startToClose = Positive(c, "start_to_close_secs") ?? 300;
        return new ActivitySpec(
            Seq: Seq(c),
            Name: c.RequiredString("name"),
            TaskQueue: defaultQueue is null ? c.RequiredString("task_queue") : c.String("task_queue") ?? defaultQueue,
            Input: c.Raw("input"),
            MaxAttempts: maxAttempts,
            InitialIntervalSecs: NonNegative(c, "initial_interval_secs") ?? 1.0,
            BackoffCoefficient: coefficient,
            MaxIntervalSecs: NonNegative(c, "max_interval_secs"),
            StartToCloseSecs: startToClose,
            HeartbeatTimeoutSecs: Positive(c, "heartbeat_timeout_secs"),
            NonRetryableErrorTypes: c.StringArray("non_retryable_error_types"));
    }

    static long Seq(JsonBody c)
    {
        var seq = c.Long("seq") ?? throw EngineException.Invalid("'seq' is required");
        if (seq < 0) throw EngineException.Invalid("'seq' must not be negative");
        return seq;
    }

    static double? NonNegative(JsonBody c, string name)
    {
        var v = c.Double(name);
        if (v < 0) throw EngineException.Invalid($"'{name}' must not be negative");
        return v;
    }

    static double? Positive(JsonBody c, string name)
    {
        var v = c.Double(name);
        if (v <= 0) throw EngineException.Invalid($"'{name}' must be positive");
        return v;
    }
}
