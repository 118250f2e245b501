using System.Text.Json.Serialization;

namespace Assay.Engine.Api;

/// <summary>Source-generated serialisers for the wire records (NativeAOT: no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(WorkflowRecord))]
[JsonSerializable(typeof(IReadOnlyList<WorkflowRecord>))]
[JsonSerializable(typeof(IReadOnlyList<EventRecord>))]
[JsonSerializable(typeof(ActivityRecord))]
[JsonSerializable(typeof(IReadOnlyList<WorkerRecord>))]
[JsonSerializable(typeof(ScheduleRecord))]
[JsonSerializable(typeof(IReadOnlyList<ScheduleRecord>))]
[JsonSerializable(typeof(IReadOnlyList<NamespaceRecord>))]
[JsonSerializable(typeof(NamespaceRecord))]
[JsonSerializable(typeof(NamespaceStats))]
[JsonSerializable(typeof(IReadOnlyList<QueueStats>))]
[JsonSerializable(typeof(QueueSettings))]
[JsonSerializable(typeof(StartResult))]
[JsonSerializable(typeof(ScheduleFireResult))]
[JsonSerializable(typeof(ApiKeyRecord))]
[JsonSerializable(typeof(IReadOnlyList<ActivityRecord>))]
[JsonSerializable(typeof(IReadOnlyList<ApiKeyRecord>))]
[JsonSerializable(typeof(IReadOnlyList<ScheduleFireResult>))]
[JsonSerializable(typeof(StreamEvent))]
[JsonSerializable(typeof(StatusChange))]
internal sealed partial class EngineJsonContext : JsonSerializerContext
{
    /// <summary>The context used for responses: same contracts, relaxed escaping (see <see cref="JsonText.Encoder"/>).</summary>
    public static EngineJsonContext Wire { get; } = new(new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower, Encoder = JsonText.Encoder });
}
