using BotStore.Internal;
using BotStore.Maintenance;
using BotStore.Monitoring.Internal;
using Npgsql;

namespace BotStore.Monitoring;

public sealed partial class DatabaseReports
{
    /// <summary>
    /// Every index of the schema (a partitioned index summed over its partitions' copies), by size: scans, tuples,
    /// estimated bloat, and the problems worth acting on: unused (never scanned since statistics were reset, and
    /// enforcing no constraint), redundant (its keys are those, or a leading part, of another index of the same
    /// table), invalid (a failed concurrent build).
    /// </summary>
    public Task<IReadOnlyList<IndexReport>> IndexesAsync(CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<IndexReport>>(async () =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var cmd = new NpgsqlCommand("""
                SELECT ci.oid, ci.relname, ct.relname, am.amname, s.partitions, s.scans, s.tuples_read, s.tuples_fetched, s.bytes,
                       x.indisunique, x.indisprimary, x.indisvalid, pg_get_indexdef(ci.oid), x.indrelid,
                       (x.indkey::int2[])[0:x.indnkeyatts - 1], (x.indclass::oid[])[0:x.indnkeyatts - 1], (x.indoption::int2[])[0:x.indnkeyatts - 1],
                       coalesce(pg_get_expr(x.indexprs, x.indrelid), ''), coalesce(pg_get_expr(x.indpred, x.indrelid), ''), s.leaves,
                       x.indkey::int2[]
                FROM pg_index x
                JOIN pg_class ci ON ci.oid = x.indexrelid
                JOIN pg_class ct ON ct.oid = x.indrelid
                JOIN pg_am am ON am.oid = ci.relam
                CROSS JOIN LATERAL (
                    SELECT (count(*) FILTER (WHERE t.relid <> ci.oid))::int AS partitions,
                           coalesce(sum(pg_stat_get_numscans(t.relid)), 0)::bigint AS scans,
                           coalesce(sum(pg_stat_get_tuples_returned(t.relid)), 0)::bigint AS tuples_read,
                           coalesce(sum(pg_stat_get_tuples_fetched(t.relid)), 0)::bigint AS tuples_fetched,
                           coalesce(sum(pg_relation_size(t.relid)), 0)::bigint AS bytes,
                           array_agg(t.relid) AS leaves
                    -- pg_partition_tree lists nothing for a plain index: an index is its own only leaf.
                    FROM (SELECT t.relid::oid FROM pg_partition_tree(ci.oid) t WHERE t.isleaf AND ci.relkind = 'I'
                          UNION ALL SELECT ci.oid WHERE ci.relkind <> 'I') t
                ) s
                WHERE ci.relnamespace = current_schema()::regnamespace AND NOT ci.relispartition
                ORDER BY s.bytes DESC, ci.relname
                """, conn);
            var rows = new List<(IndexReport Row, IndexShape Shape, uint[] Leaves)>();
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var row = new IndexReport(reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4), reader.GetInt64(5),
                        reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetBoolean(9), reader.GetBoolean(10), reader.GetBoolean(11),
                        false, null, null, null, reader.GetString(12));
                    var shape = new IndexShape(reader.GetFieldValue<uint>(0), reader.GetFieldValue<uint>(13), reader.GetString(3),
                        reader.GetFieldValue<short[]>(14), reader.GetFieldValue<uint[]>(15), reader.GetFieldValue<short[]>(16),
                        reader.GetFieldValue<short[]>(20), reader.GetString(17), reader.GetString(18), row.IsUnique, row.IsPrimary);
                    rows.Add((row, shape, reader.IsDBNull(19) ? [] : reader.GetFieldValue<uint[]>(19)));
                }
            }
            var btreeLeaves = rows.Where(r => r.Shape.Method == "btree").SelectMany(r => r.Leaves).ToList();
            var bloat = await Bloat.OfIndexesAsync(conn, btreeLeaves, IndexBloatMethod.Statistics, ct);
            return rows.Select(r =>
            {
                var redundant = rows.Where(o => o.Shape.Oid != r.Shape.Oid && r.Shape.IsRedundantWith(o.Shape)).Select(o => o.Row.Name).FirstOrDefault();
                var known = r.Leaves.Where(bloat.ContainsKey).ToList();
                var bloatBytes = known.Count > 0 ? known.Sum(l => bloat[l].Bytes) : (long?)null;
                return r.Row with
                {
                    IsUnused = r.Row.IsValid && r.Row.Scans == 0 && !r.Row.IsUnique && !r.Row.IsPrimary,
                    RedundantWith = redundant,
                    BloatBytes = bloatBytes,
                    BloatRatio = bloatBytes is { } b && r.Row.Bytes > 0 ? (double)b / r.Row.Bytes : null,
                };
            }).ToList();
        });
}

/// <summary>One index's usage, size and problems.</summary>
/// <param name="Name">The index (for a partitioned table, the parent's index).</param>
/// <param name="Table">Its table.</param>
/// <param name="Method">btree, brin, gin, ...</param>
/// <param name="Partitions">How many partitions' copies the figures sum (0 for a plain table's index).</param>
/// <param name="Scans">Index scans since statistics were reset.</param>
/// <param name="TuplesRead">Index entries read.</param>
/// <param name="TuplesFetched">Table rows fetched through it.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="IsUnique">Enforces uniqueness.</param>
/// <param name="IsPrimary">Is the primary key.</param>
/// <param name="IsValid">False after a failed concurrent build: it costs writes and serves no query.</param>
/// <param name="IsUnused">Valid, never scanned, and enforcing no constraint: a candidate to drop.</param>
/// <param name="RedundantWith">Another index of the same table whose keys start with all of this one's: a candidate to drop.</param>
/// <param name="BloatRatio">Estimated bloat as a fraction of its size (btree, statistics estimate); null when unknown.</param>
/// <param name="BloatBytes">Estimated bloat in bytes.</param>
/// <param name="Definition">Its CREATE INDEX statement.</param>
public sealed record IndexReport(string Name, string Table, string Method, int Partitions, long Scans, long TuplesRead, long TuplesFetched, long Bytes,
    bool IsUnique, bool IsPrimary, bool IsValid, bool IsUnused, string? RedundantWith, double? BloatRatio, long? BloatBytes, string Definition);
