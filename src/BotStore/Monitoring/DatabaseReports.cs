using BotStore.Internal;
using BotStore.Partitions;
using Npgsql;

namespace BotStore.Monitoring;

/// <summary>
/// The seed's monitoring queries and more, as typed reports over BotStore's schema: table sizes and bloat, index
/// usage and problems, slow queries, vacuum health, connections and partition runway. Read-only; each report is a
/// few catalog and statistics queries, cheap enough to serve on every scrape.
/// </summary>
public sealed partial class DatabaseReports(NpgsqlDataSource dataSource, PartitionManager? partitions = null)
{
    private readonly PartitionManager _partitions = partitions ?? new PartitionManager(dataSource);

    /// <summary>Each managed table's partition runway (<see cref="PartitionManager.StatusAsync"/>, summarised).</summary>
    public Task<IReadOnlyList<PartitionRunwayReport>> PartitionsAsync(CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<PartitionRunwayReport>>(async () =>
            (await _partitions.StatusAsync(null, ct)).Select(s => new PartitionRunwayReport(s.Table, s.MonthlyPartitions, s.OldestFrom,
                s.CoveredUntil, s.RunwayMonths, s.Policy.PremakeMonths, s.Policy.RetentionMonths, s.RetentionHorizon, s.DefaultRows,
                s.Partitions.Sum(p => Math.Max(0, p.EstimatedRows)), s.TotalBytes)).ToList());

    /// <summary>Connections to the server by database, user, application and state.</summary>
    public Task<ConnectionReport> ConnectionsAsync(CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var max = new NpgsqlCommand("SELECT current_setting('max_connections')::int", conn);
        var maxConnections = (int)(await max.ExecuteScalarAsync(ct))!;
        // Other roles' sessions show a NULL state to a role without pg_read_all_stats.
        await using var cmd = new NpgsqlCommand("""
            SELECT datname, usename, application_name, coalesce(state, 'unknown'), count(*)::int,
                   (count(*) FILTER (WHERE wait_event_type = 'Lock'))::int,
                   greatest(0, extract(epoch FROM max(now() - xact_start)))::float8,
                   greatest(0, extract(epoch FROM max(now() - query_start) FILTER (WHERE state = 'active')))::float8
            FROM pg_stat_activity
            WHERE backend_type = 'client backend'
            GROUP BY 1, 2, 3, 4
            ORDER BY 5 DESC, 1, 2, 3, 4
            """, conn);
        var groups = new List<ConnectionGroup>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            groups.Add(new ConnectionGroup(NullableString(reader, 0), NullableString(reader, 1), NullableString(reader, 2), reader.GetString(3),
                reader.GetInt32(4), reader.GetInt32(5), NullableDouble(reader, 6), NullableDouble(reader, 7)));
        }
        return new ConnectionReport(maxConnections, groups.Sum(g => g.Count), groups);
    });

    private static string? NullableString(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static double? NullableDouble(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTimeOffset>(i);
}

/// <summary>One managed table's partition runway.</summary>
/// <param name="Table">The partitioned table.</param>
/// <param name="Partitions">Monthly partitions (the default one not counted).</param>
/// <param name="OldestFrom">The start of the oldest one.</param>
/// <param name="CoveredUntil">Where the unbroken run of partitions from the current month ends.</param>
/// <param name="RunwayMonths">Months of that run, the current one included (0: this month's rows land in the default partition).</param>
/// <param name="PremakeMonths">The premake window.</param>
/// <param name="RetentionMonths">The retention; null when off.</param>
/// <param name="RetentionHorizon">Partitions ending on or before it are retired.</param>
/// <param name="DefaultRows">Rows in the default partition.</param>
/// <param name="EstimatedRows">Rows in all partitions (estimate).</param>
/// <param name="TotalBytes">Size of all partitions.</param>
public sealed record PartitionRunwayReport(string Table, int Partitions, DateTimeOffset? OldestFrom, DateTimeOffset? CoveredUntil, int RunwayMonths,
    int PremakeMonths, int? RetentionMonths, DateOnly? RetentionHorizon, long DefaultRows, long EstimatedRows, long TotalBytes);

/// <summary>The server's client connections.</summary>
/// <param name="MaxConnections">The server's max_connections.</param>
/// <param name="Total">Client connections now.</param>
/// <param name="Groups">By database, user, application and state.</param>
public sealed record ConnectionReport(int MaxConnections, int Total, IReadOnlyList<ConnectionGroup> Groups);

/// <summary>Client connections sharing a database, user, application and state.</summary>
/// <param name="Database">The database.</param>
/// <param name="User">The role.</param>
/// <param name="Application">application_name.</param>
/// <param name="State">active, idle, idle in transaction, ... (unknown when this role may not see it).</param>
/// <param name="Count">How many.</param>
/// <param name="WaitingOnLocks">How many wait for a lock.</param>
/// <param name="OldestTransactionSeconds">Age of the oldest open transaction among them.</param>
/// <param name="LongestQuerySeconds">Run time of the longest active query among them.</param>
public sealed record ConnectionGroup(string? Database, string? User, string? Application, string State, int Count, int WaitingOnLocks,
    double? OldestTransactionSeconds, double? LongestQuerySeconds);
