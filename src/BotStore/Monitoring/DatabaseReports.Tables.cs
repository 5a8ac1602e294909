using BotStore.Internal;
using BotStore.Monitoring.Internal;
using Npgsql;

namespace BotStore.Monitoring;

public sealed partial class DatabaseReports
{
    /// <summary>
    /// Every table, partitioned parent and partition of the schema by total size: heap, indexes, rows and the
    /// statistics estimate of heap bloat (a parent sums its partitions).
    /// </summary>
    public Task<IReadOnlyList<TableReport>> TablesAsync(CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<TableReport>>(async () =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var cmd = new NpgsqlCommand("""
                SELECT c.relname, CASE WHEN c.relkind = 'p' THEN 'partitioned' WHEN c.relispartition THEN 'partition' ELSE 'table' END,
                       p.relname, s.partitions, s.rows, s.total, s.heap, s.indexes, s.leaves
                FROM pg_class c
                LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition
                LEFT JOIN pg_class p ON p.oid = i.inhparent
                CROSS JOIN LATERAL (
                    SELECT (count(*) FILTER (WHERE l.oid <> c.oid))::int AS partitions,
                           coalesce(sum(CASE WHEN l.reltuples >= 0 THEN l.reltuples ELSE pg_stat_get_live_tuples(l.oid) END), 0)::bigint AS rows,
                           coalesce(sum(pg_total_relation_size(l.oid)), 0)::bigint AS total,
                           coalesce(sum(pg_relation_size(l.oid)), 0)::bigint AS heap,
                           coalesce(sum(pg_indexes_size(l.oid)), 0)::bigint AS indexes,
                           array_agg(l.oid) FILTER (WHERE l.oid IS NOT NULL) AS leaves
                    -- pg_partition_tree lists nothing for a plain table: a table is its own only leaf.
                    FROM (SELECT t.relid::oid FROM pg_partition_tree(c.oid) t WHERE t.isleaf AND c.relkind = 'p'
                          UNION ALL SELECT c.oid WHERE c.relkind <> 'p') t
                    JOIN pg_class l ON l.oid = t.relid
                ) s
                WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
                ORDER BY s.total DESC, c.relname
                """, conn);
            var rows = new List<(TableReport Row, uint[] Leaves)>();
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    rows.Add((new TableReport(reader.GetString(0), reader.GetString(1), NullableString(reader, 2), reader.GetInt32(3), reader.GetInt64(4),
                        reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), null, null),
                        reader.IsDBNull(8) ? [] : reader.GetFieldValue<uint[]>(8)));
                }
            }
            var bloat = await Bloat.OfTablesAsync(conn, rows.SelectMany(r => r.Leaves).Distinct().ToList(), ct);
            return rows.Select(r =>
            {
                var known = r.Leaves.Where(bloat.ContainsKey).ToList();
                if (known.Count == 0)
                    return r.Row;
                var bytes = known.Sum(l => bloat[l].Bytes);
                return r.Row with { BloatBytes = bytes, BloatRatio = r.Row.HeapBytes > 0 ? (double)bytes / r.Row.HeapBytes : 0 };
            }).ToList();
        });
}

/// <summary>A table's size and estimated bloat.</summary>
/// <param name="Name">The table.</param>
/// <param name="Kind"><c>table</c>, <c>partitioned</c> (a parent: figures sum its partitions) or <c>partition</c>.</param>
/// <param name="Parent">The parent of a partition.</param>
/// <param name="Partitions">A parent's partitions.</param>
/// <param name="EstimatedRows">Rows (planner estimate, or the live-row count before the first ANALYZE).</param>
/// <param name="TotalBytes">Heap, indexes, TOAST and maps.</param>
/// <param name="HeapBytes">The heap (main fork).</param>
/// <param name="IndexBytes">All its indexes.</param>
/// <param name="BloatRatio">Estimated heap bloat as a fraction of the heap; null without statistics.</param>
/// <param name="BloatBytes">Estimated heap bloat in bytes.</param>
public sealed record TableReport(string Name, string Kind, string? Parent, int Partitions, long EstimatedRows, long TotalBytes, long HeapBytes,
    long IndexBytes, double? BloatRatio, long? BloatBytes);
