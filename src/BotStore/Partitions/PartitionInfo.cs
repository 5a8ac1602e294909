using BotStore.Internal;
using Npgsql;

namespace BotStore.Partitions;

/// <summary>One partition of a monthly-partitioned table.</summary>
/// <param name="Parent">The partitioned table.</param>
/// <param name="Name">The partition's table name.</param>
/// <param name="From">Inclusive lower bound; null for the default partition.</param>
/// <param name="To">Exclusive upper bound; null for the default partition.</param>
/// <param name="EstimatedRows">The planner's row estimate (reltuples), or before the first ANALYZE or VACUUM the statistics
/// collector's live-row count.</param>
/// <param name="TotalBytes">Heap, indexes and TOAST.</param>
public sealed record PartitionInfo(string Parent, string Name, DateTimeOffset? From, DateTimeOffset? To, long EstimatedRows, long TotalBytes)
{
    /// <summary>Whether this is the parent's DEFAULT partition.</summary>
    public bool IsDefault => From is null;

    /// <summary>Every partition of every table listed in <c>partitioned_tables</c>, by table and range.</summary>
    public static Task<IReadOnlyList<PartitionInfo>> ListAsync(NpgsqlDataSource dataSource, CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<PartitionInfo>>(async () =>
        {
            await using var cmd = dataSource.CreateCommand("""
                SELECT p.table_name, c.relname,
                       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz,
                       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz,
                       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
                            ELSE pg_stat_get_live_tuples(c.oid) END,
                       pg_total_relation_size(c.oid)
                FROM partitioned_tables p
                JOIN pg_inherits i ON i.inhparent = p.table_name::regclass
                JOIN pg_class c ON c.oid = i.inhrelid
                ORDER BY p.table_name, 3 NULLS FIRST
                """);
            var result = new List<PartitionInfo>();
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                result.Add(new PartitionInfo(reader.GetString(0), reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                    reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                    reader.GetInt64(4), reader.GetInt64(5)));
            }
            return result;
        });
}
