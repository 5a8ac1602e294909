using System.Text.Json.Serialization;
using BotStore.Internal;

namespace BotStore.Maintenance;

/// <summary>The seed's scheduled maintenance tasks.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<MaintenanceTask>))]
public enum MaintenanceTask
{
    /// <summary>Weekly: <c>REINDEX INDEX CONCURRENTLY</c> of btree indexes whose estimated bloat passes the threshold.</summary>
    Reindex,

    /// <summary>Monthly: <c>ANALYZE</c> of every table, partitioned parents included (autovacuum never analyzes those).</summary>
    Analyze,

    /// <summary>Quarterly: <c>CLUSTER ... USING</c> of closed (past-month) partitions, one at a time.</summary>
    Cluster,

    /// <summary>Optional: <c>VACUUM (ANALYZE)</c> of chosen tables.</summary>
    Vacuum,
}

/// <summary>How index bloat is measured.</summary>
public enum IndexBloatMethod
{
    /// <summary><see cref="PgStatIndex"/> when the pgstattuple extension is installed and readable, else <see cref="Statistics"/>.</summary>
    Auto,

    /// <summary>pgstattuple's <c>pgstatindex</c>: exact leaf density, but it reads the whole index.</summary>
    PgStatIndex,

    /// <summary>An estimate from the catalog and <c>pg_stats</c> (row count, column widths, fill factor): reads no index page.</summary>
    Statistics,
}

/// <summary>A table clustered by the cluster task, partition by partition, and the index that orders it.</summary>
/// <param name="Table">A partitioned table.</param>
/// <param name="Index">An index on it, e.g. <c>idx_messages_session</c>; each partition is clustered on its own copy.</param>
public sealed record ClusterTarget(string Table, string Index);

/// <summary>How the <see cref="MaintenanceRunner"/> works.</summary>
public sealed record MaintenanceOptions
{
    /// <summary>An index is rebuilt when its estimated bloat is at least this fraction of its size.</summary>
    public double ReindexBloatThreshold { get; init; } = 0.3;

    /// <summary>Indexes smaller than this are never rebuilt: their bloat costs nothing worth a rebuild.</summary>
    public long ReindexMinBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>How bloat is measured.</summary>
    public IndexBloatMethod BloatMethod { get; init; } = IndexBloatMethod.Auto;

    /// <summary>What the cluster task clusters: the seed's <c>CLUSTER message_history USING idx_messages_session</c>.</summary>
    public IReadOnlyList<ClusterTarget> ClusterTargets { get; init; } = [new("message_history", "idx_messages_session")];

    /// <summary>Tables the vacuum task runs <c>VACUUM (ANALYZE)</c> on; none by default (autovacuum's job).</summary>
    public IReadOnlyList<string> VacuumTables { get; init; } = [];

    /// <summary>A run starts no new step after this long; what is left waits for the next run.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromHours(2);

    /// <summary>The longest <c>CLUSTER</c> waits for its exclusive lock per attempt.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Attempts per <c>CLUSTER</c> before the partition is left for the next run.</summary>
    public int LockAttempts { get; init; } = 5;

    /// <summary>The pause after the first timed-out attempt; it doubles after each one, up to 30 s.</summary>
    public TimeSpan RetryPause { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The clock that says which month is current (UTC), and so which partitions are closed.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
