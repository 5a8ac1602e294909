using BotStore.Internal;
using BotStore.Monitoring.Internal;
using Npgsql;

namespace BotStore.Maintenance.Internal;

/// <summary>
/// The weekly reindex: <c>REINDEX INDEX CONCURRENTLY</c> of every btree index of at least
/// <see cref="MaintenanceOptions.ReindexMinBytes"/> whose measured bloat reaches the threshold, biggest first; and
/// <c>DROP INDEX CONCURRENTLY</c> of the invalid <c>_ccnew</c>/<c>_ccold</c> copies an interrupted concurrent
/// reindex leaves behind. Only leaf indexes: a partitioned index has no storage of its own.
/// </summary>
internal static partial class ReindexPlan
{
    public static async Task<List<MaintenanceStep>> BuildAsync(NpgsqlConnection conn, MaintenanceOptions options, string? table, CancellationToken ct)
    {
        uint? scope = null;
        if (table is not null)
        {
            var relation = await Relation.FindAsync(conn, table, ct);
            if (relation is null || !(relation.IsTable || relation.IsIndex))
                throw new BotStoreValidationException($"no table or index named '{table}'");
            scope = relation.Oid;
        }
        var candidates = new List<(uint Oid, string Index, string Table, bool Valid, long Bytes)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT ci.oid, ci.relname, ct.relname, x.indisvalid, pg_relation_size(ci.oid)
            FROM pg_index x
            JOIN pg_class ci ON ci.oid = x.indexrelid
            JOIN pg_class ct ON ct.oid = x.indrelid
            JOIN pg_am am ON am.oid = ci.relam
            WHERE ci.relnamespace = current_schema()::regnamespace AND ci.relkind = 'i' AND am.amname = 'btree'
              AND ($1::oid IS NULL OR $1 IN (ci.oid, ct.oid)
                   OR EXISTS (SELECT 1 FROM pg_partition_tree($1::oid::regclass) t WHERE t.relid IN (ci.oid, ct.oid)))
            ORDER BY 5 DESC, 2
            """, conn))
        {
            cmd.Parameters.Add(SqlText.Oid(scope));
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                candidates.Add((reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.GetInt64(4)));
        }

        var steps = candidates
            .Where(c => !c.Valid && LeftoverPattern().IsMatch(c.Index))
            .Select(c => new MaintenanceStep(c.Index, $"DROP INDEX CONCURRENTLY {SqlText.Ident(c.Index)}",
                $"invalid copy on {c.Table} left by an interrupted REINDEX CONCURRENTLY"))
            .ToList();
        var measured = candidates.Where(c => c.Valid && c.Bytes >= options.ReindexMinBytes).ToList();
        var bloat = await Bloat.OfIndexesAsync(conn, measured.Select(c => c.Oid).ToList(), options.BloatMethod, ct);
        foreach (var c in measured)
        {
            if (bloat.TryGetValue(c.Oid, out var b) && b.Ratio >= options.ReindexBloatThreshold)
            {
                steps.Add(new MaintenanceStep(c.Index, $"REINDEX INDEX CONCURRENTLY {SqlText.Ident(c.Index)}",
                    $"bloat {b.Ratio * 100:0}% of {c.Bytes / 1048576.0:0.##} MB by {b.Method} (threshold {options.ReindexBloatThreshold * 100:0}%)"));
            }
        }
        return steps;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"_cc(new|old)\d*$")]
    private static partial System.Text.RegularExpressions.Regex LeftoverPattern();
}
