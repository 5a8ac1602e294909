namespace BotStore.Partitions;

/// <summary>How BotStore manages one monthly-partitioned table: <c>partitioned_tables</c> with any overrides applied.</summary>
/// <param name="Table">The partitioned parent.</param>
/// <param name="KeyColumn">The partition key (a timestamptz, e.g. <c>created_at</c>).</param>
/// <param name="DefaultPartition">The parent's DEFAULT partition, if it has one.</param>
/// <param name="PremakeMonths">Partitions kept ready beyond the current month.</param>
/// <param name="RetentionMonths">Whole months kept before the current one; null keeps everything.</param>
/// <param name="Reloptions">Storage options every new partition gets (the seed's autovacuum settings).</param>
public sealed record PartitionPolicy(string Table, string KeyColumn, string? DefaultPartition, int PremakeMonths, int? RetentionMonths,
    IReadOnlyList<string> Reloptions)
{
    /// <summary>
    /// The retention horizon for a current month: partitions that end on or before it are retired. Null when
    /// retention is off. With 24 months in June 2025 it is 2023-06-01, so May 2023 goes and June 2023 stays.
    /// </summary>
    public DateOnly? HorizonFor(DateOnly currentMonth) => RetentionMonths is { } months ? currentMonth.AddMonths(-months) : null;
}

/// <summary>Overrides of one table's <c>partitioned_tables</c> row, from configuration or the command line.</summary>
public sealed record PartitionTableOptions
{
    /// <summary>Partitions to keep ready beyond the current month (0-120).</summary>
    public int? PremakeMonths { get; init; }

    /// <summary>Whole months to keep before the current one; 0 turns retention off.</summary>
    public int? RetentionMonths { get; init; }
}

/// <summary>How the <see cref="PartitionManager"/> works.</summary>
public sealed record PartitionOptions
{
    /// <summary>Per-table overrides of <c>partitioned_tables</c>, by table name.</summary>
    public IReadOnlyDictionary<string, PartitionTableOptions> Tables { get; init; } = new Dictionary<string, PartitionTableOptions>();

    /// <summary>Retention detaches old partitions and keeps them as plain tables (renamed <c>&lt;name&gt;_archive</c>) instead of dropping them.</summary>
    public bool KeepDetached { get; init; }

    /// <summary>The longest one attempt waits for a lock on a parent or its default partition.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Attempts per partition before the run gives up on it (and tries again on its next run).</summary>
    public int LockAttempts { get; init; } = 8;

    /// <summary>The pause after the first timed-out attempt; it doubles after each one, up to 30 s.</summary>
    public TimeSpan RetryPause { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The clock that says which month is current (UTC).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
