using System.Text.Json.Serialization;
using BotStore.Internal;

namespace BotStore.Maintenance;

/// <summary>How a run or one step of it ended; stored as its lower-case name in <c>maintenance_runs.outcome</c>.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<MaintenanceOutcome>))]
public enum MaintenanceOutcome
{
    /// <summary>Started and not finished: still at work, or the process died.</summary>
    Running,

    /// <summary>Done.</summary>
    Succeeded,

    /// <summary>Ended with an error (recorded beside it).</summary>
    Failed,

    /// <summary>Not done on purpose: another instance holds the runner lock, the time budget ran out, or there was nothing to do.</summary>
    Skipped,
}
