namespace BotStore.Maintenance;

/// <summary>One planned statement of a task.</summary>
/// <param name="Target">The relation it works on.</param>
/// <param name="Statement">The SQL it runs.</param>
/// <param name="Reason">Why it is in the plan (e.g. the bloat that was measured).</param>
public sealed record MaintenanceStep(string Target, string Statement, string Reason)
{
    /// <summary>Takes an ACCESS EXCLUSIVE lock (CLUSTER): run in a transaction under a short lock_timeout, retried.</summary>
    internal bool Exclusive { get; init; }
}

/// <summary>What one step did.</summary>
/// <param name="Target">The relation.</param>
/// <param name="Statement">The SQL.</param>
/// <param name="Reason">Why it was planned.</param>
/// <param name="Outcome">How it ended (<see cref="MaintenanceOutcome.Skipped"/> for a dry run or an exhausted time budget).</param>
/// <param name="Error">Why it failed or was skipped.</param>
/// <param name="Seconds">How long it ran.</param>
public sealed record MaintenanceStepResult(string Target, string Statement, string Reason, MaintenanceOutcome Outcome, string? Error, double Seconds);

/// <summary>What <see cref="MaintenanceRunner.RunAsync"/> did.</summary>
/// <param name="Task">The task.</param>
/// <param name="RunId">Its row in <c>maintenance_runs</c>; null for a dry run or a skipped one.</param>
/// <param name="DryRun">Only the plan: nothing ran.</param>
/// <param name="Outcome">Failed when a step failed; skipped when another instance holds the runner lock.</param>
/// <param name="Detail">A one-line summary.</param>
/// <param name="Steps">Each step.</param>
public sealed record MaintenanceRunResult(MaintenanceTask Task, long? RunId, bool DryRun, MaintenanceOutcome Outcome, string Detail,
    IReadOnlyList<MaintenanceStepResult> Steps);

/// <summary>A row of <c>maintenance_runs</c>: a run of a task, or one step of a run.</summary>
/// <param name="Id">The row's id.</param>
/// <param name="RunId">The run a step belongs to; null for a run.</param>
/// <param name="Task">The task (<c>reindex</c>, <c>analyze</c>, <c>cluster</c>, <c>vacuum</c>, <c>partitions_ensure</c>, <c>partitions_retain</c>).</param>
/// <param name="Target">The relation of a step; for a run, the table it was limited to.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="FinishedAt">When it ended; null while running.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Host">The instance that did it.</param>
/// <param name="Detail">A summary, or why a step was planned.</param>
/// <param name="Error">What went wrong.</param>
public sealed record MaintenanceRunRecord(long Id, long? RunId, string Task, string? Target, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
    MaintenanceOutcome Outcome, string? Host, string? Detail, string? Error);
