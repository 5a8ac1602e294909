namespace BotStore.Tooling.Conversion;

/// <summary>What <see cref="EnumConverter"/> converts and how gently.</summary>
public sealed record ConversionOptions
{
    /// <summary>The table (<c>name</c> or <c>schema.name</c>); <see cref="EnumConverter.PlanAsync"/> looks at every table when null.</summary>
    public string? Table { get; init; }

    /// <summary>Only these columns; empty means every column whose values map onto a domain (or that <see cref="Maps"/> names).</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>Explicit mappings (<c>table.column=domain</c> or <c>table.column=value:number,...</c>).</summary>
    public IReadOnlyList<ColumnMap> Maps { get; init; } = [];

    /// <summary>Values outside the column's domain mapped explicitly (<c>table.column=value:number,...</c>).</summary>
    public IReadOnlyList<ColumnMap> MapUnknown { get; init; } = [];

    /// <summary>Rows per backfill transaction.</summary>
    public int BatchSize { get; init; } = 5_000;

    /// <summary>Pause after each backfill batch, so that writers, vacuum and replicas keep up.</summary>
    public TimeSpan Pause { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest any DDL statement (and so any writer queued behind it) waits for a lock before it gives up and retries.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Attempts of each locking step before <c>apply</c> stops (it resumes where it stopped when run again).</summary>
    public int LockAttempts { get; init; } = 20;

    /// <summary>The backfill waits while a replica's replay lag exceeds this.</summary>
    public TimeSpan MaxReplicationLag { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Called at the start of every step with its name; tests stop a run here as a kill would.</summary>
    internal Func<string, Task>? StepHook { get; init; }
}

/// <summary>Where a conversion is, reported while <c>apply</c> runs.</summary>
/// <param name="Table">The table.</param>
/// <param name="Step">The step (<see cref="ConversionSteps"/>).</param>
/// <param name="Partition">The partition being backfilled, when partitioned.</param>
/// <param name="Rows">Rows backfilled so far.</param>
/// <param name="TotalRows">Rows to backfill (estimate).</param>
public sealed record ConversionProgress(string Table, string Step, string? Partition, long Rows, long TotalRows);

/// <summary>The steps of <c>apply</c>, in order; the conversion's state records the last one completed.</summary>
public static class ConversionSteps
{
    /// <summary>The SMALLINT columns and the trigger that keeps them in step exist.</summary>
    public const string Added = "added";

    /// <summary>Every row has its number.</summary>
    public const string Backfilled = "backfilled";

    /// <summary>Every row's number was compared with its text.</summary>
    public const string Verified = "verified";

    /// <summary>NOT NULL and CHECK constraints hold on the new columns (added NOT VALID, then validated).</summary>
    public const string Constrained = "constrained";

    /// <summary>The dependent indexes exist on the new columns (built concurrently).</summary>
    public const string Indexed = "indexed";

    /// <summary>The SMALLINT columns carry the old names; the text ones are kept in step until <c>finish</c>.</summary>
    public const string Swapped = "swapped";

    /// <summary>All steps in order.</summary>
    public static IReadOnlyList<string> All { get; } = [Added, Backfilled, Verified, Constrained, Indexed, Swapped];
}

/// <summary>What <c>apply</c> did.</summary>
/// <param name="Table">The table.</param>
/// <param name="Columns">The converted columns.</param>
/// <param name="Step">The step reached (<see cref="ConversionSteps.Swapped"/> when complete).</param>
/// <param name="Resumed">Whether it continued an interrupted run.</param>
/// <param name="RowsBackfilled">Rows this run backfilled.</param>
/// <param name="Elapsed">Wall time of this run.</param>
/// <param name="LongestLockWait">The longest any other session waited for a lock on the table (or behind this run) while it ran.</param>
/// <param name="LockRetries">Locking steps that timed out and were retried.</param>
public sealed record ConversionResult(string Table, IReadOnlyList<string> Columns, string Step, bool Resumed, long RowsBackfilled,
    TimeSpan Elapsed, TimeSpan LongestLockWait, int LockRetries);

/// <summary>What <c>verify</c> found.</summary>
/// <param name="Table">The table.</param>
/// <param name="Step">The conversion's step.</param>
/// <param name="Rows">Rows compared.</param>
/// <param name="Mismatches">Rows whose number differs from the mapping of their text.</param>
/// <param name="FirstMismatch">A key of one such row.</param>
public sealed record VerifyResult(string Table, string Step, long Rows, long Mismatches, string? FirstMismatch);
