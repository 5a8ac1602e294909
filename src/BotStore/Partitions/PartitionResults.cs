using BotStore.Maintenance;

namespace BotStore.Partitions;

/// <summary>One table's partitions and how far ahead they reach.</summary>
/// <param name="Policy">The table's policy.</param>
/// <param name="Partitions">Its partitions, the default first, then by range.</param>
/// <param name="DefaultRows">Rows in the default partition (counted): more than zero means a month lacks its partition.</param>
/// <param name="CurrentMonth">The current UTC month.</param>
/// <param name="CoveredUntil">The end of the unbroken run of partitions that starts with the current month; null when the current month has none.</param>
/// <param name="RunwayMonths">Months from the start of the current month to <paramref name="CoveredUntil"/>, the current one included: the default policy keeps it at 4, and 0 means this month's rows land in the default partition.</param>
public sealed record PartitionTableStatus(PartitionPolicy Policy, IReadOnlyList<PartitionInfo> Partitions, long DefaultRows,
    DateOnly CurrentMonth, DateTimeOffset? CoveredUntil, int RunwayMonths)
{
    /// <summary>The table's name.</summary>
    public string Table => Policy.Table;

    /// <summary>Partitions other than the default.</summary>
    public int MonthlyPartitions => Partitions.Count(p => !p.IsDefault);

    /// <summary>The start of the oldest monthly partition.</summary>
    public DateTimeOffset? OldestFrom => Partitions.Where(p => !p.IsDefault).Min(p => p.From);

    /// <summary>Every partition's size together.</summary>
    public long TotalBytes => Partitions.Sum(p => p.TotalBytes);

    /// <summary>The retention horizon for the current month, when retention is on.</summary>
    public DateOnly? RetentionHorizon => Policy.HorizonFor(CurrentMonth);
}

/// <summary>A partition that <see cref="PartitionManager.EnsureAsync"/> created.</summary>
/// <param name="Table">The parent.</param>
/// <param name="Partition">The new partition.</param>
/// <param name="Month">Its UTC month.</param>
/// <param name="RowsMoved">Rows it took over from the default partition (0 for a premade month).</param>
public sealed record CreatedPartition(string Table, string Partition, DateOnly Month, long RowsMoved);

/// <summary>Something a partition run could not do this time; the next run tries again.</summary>
/// <param name="Table">The parent.</param>
/// <param name="Target">The partition or month.</param>
/// <param name="Error">What went wrong.</param>
public sealed record PartitionFailure(string Table, string Target, string Error);

/// <summary>What <see cref="PartitionManager.EnsureAsync"/> did.</summary>
/// <param name="Skipped">Another instance holds the partition runner lock, so this one did nothing.</param>
/// <param name="Created">Partitions created, by table and month.</param>
/// <param name="Failures">Months that could not be created (e.g. a lock not obtained in time).</param>
/// <param name="DefaultRows">Rows left in each table's default partition afterwards (0 unless rows arrived meanwhile).</param>
public sealed record PartitionEnsureResult(bool Skipped, IReadOnlyList<CreatedPartition> Created, IReadOnlyList<PartitionFailure> Failures,
    IReadOnlyDictionary<string, long> DefaultRows)
{
    /// <summary>A run that found the lock taken.</summary>
    public static PartitionEnsureResult SkippedRun { get; } = new(true, [], [], new Dictionary<string, long>());
}

/// <summary>A partition past its table's retention horizon: the plan for it and, unless a dry run, what happened.</summary>
/// <param name="Table">The parent.</param>
/// <param name="Partition">The partition.</param>
/// <param name="From">Its lower bound.</param>
/// <param name="To">Its upper bound, on or before the horizon.</param>
/// <param name="Horizon">The table's retention horizon.</param>
/// <param name="EstimatedRows">Its row estimate.</param>
/// <param name="TotalBytes">Its size.</param>
/// <param name="Action"><c>drop</c>, or <c>detach</c> when detached partitions are kept.</param>
/// <param name="Outcome">Running in a plan; succeeded, failed or skipped after a run.</param>
/// <param name="KeptAs">The plain table a detached partition now is.</param>
/// <param name="Error">Why it failed.</param>
public sealed record RetiredPartition(string Table, string Partition, DateTimeOffset From, DateTimeOffset To, DateOnly Horizon,
    long EstimatedRows, long TotalBytes, string Action, MaintenanceOutcome Outcome, string? KeptAs = null, string? Error = null);

/// <summary>What <see cref="PartitionManager.RetainAsync"/> planned or did.</summary>
/// <param name="Skipped">Another instance holds the partition runner lock, so this one did nothing.</param>
/// <param name="DryRun">Only the plan: nothing was changed.</param>
/// <param name="Partitions">The partitions past their horizon, oldest first per table.</param>
public sealed record PartitionRetentionResult(bool Skipped, bool DryRun, IReadOnlyList<RetiredPartition> Partitions);
