using BotStore.Internal;
using BotStore.Partitions;
using BotStore.Partitions.Internal;
using Npgsql;

namespace BotStore.Maintenance.Internal;

/// <summary>
/// The quarterly <c>CLUSTER ... USING</c>. CLUSTER rewrites a table under an ACCESS EXCLUSIVE lock, so it is only
/// run on closed partitions (whose month ended before the current one began: nothing writes to them any more),
/// each on its own copy of the parent's index, one at a time, oldest first; never on the current or a future
/// month's partition, nor the default one. A closed partition is clustered once: it is skipped when the journal
/// shows a successful CLUSTER of it that started after its month ended.
/// </summary>
internal static class ClusterPlan
{
    public static async Task<List<MaintenanceStep>> BuildAsync(NpgsqlConnection conn, NpgsqlDataSource dataSource, MaintenanceOptions options,
        string? table, CancellationToken ct)
    {
        var closedBefore = Months.Start(Months.Current(options.Clock));
        var targets = options.ClusterTargets;
        Relation? only = null;
        if (table is not null)
        {
            only = await Relation.TableAsync(conn, table, ct);
            var parent = only.Parent ?? only.Name;
            targets = targets.Where(t => t.Table == parent).ToList();
            if (targets.Count == 0)
                throw new BotStoreValidationException(
                    $"'{table}' is not clustered by BotStore (cluster targets: {string.Join(", ", options.ClusterTargets.Select(t => $"{t.Table} USING {t.Index}"))})");
        }

        var partitions = await PartitionInfo.ListAsync(dataSource, ct);
        var lastClustered = await LastClusteredAsync(conn, ct);
        var steps = new List<MaintenanceStep>();
        foreach (var target in targets)
        {
            var indexes = await PartitionIndexesAsync(conn, target, ct);
            foreach (var p in partitions.Where(p => p.Parent == target.Table).OrderBy(p => p.From))
            {
                var asked = only is not null && only.Name == p.Name;
                if (only is not null && only.Parent is not null && !asked)
                    continue;
                var closed = !p.IsDefault && p.To <= closedBefore;
                if (asked && !closed)
                    throw new BotStoreValidationException(p.IsDefault
                        ? $"'{p.Name}' is a default partition: BotStore never clusters it (CLUSTER would lock out every writer of a month that lacks its partition)"
                        : $"'{p.Name}' holds the current or a future month: CLUSTER would lock out its writers, so BotStore clusters only closed partitions");
                if (!closed || !indexes.TryGetValue(p.Name, out var index))
                    continue;
                if (!asked && lastClustered.TryGetValue(p.Name, out var at) && at >= p.To)
                    continue;
                steps.Add(new MaintenanceStep(p.Name, $"CLUSTER {SqlText.Ident(p.Name)} USING {SqlText.Ident(index)}",
                    $"closed month {p.From:yyyy-MM}, not clustered since it closed; orders rows by {target.Index}") { Exclusive = true });
            }
        }
        return steps;
    }

    /// <summary>Each partition's own copy of the target index.</summary>
    private static async Task<Dictionary<string, string>> PartitionIndexesAsync(NpgsqlConnection conn, ClusterTarget target, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT t.relname, ci.relname
            FROM pg_class pi
            JOIN pg_inherits ii ON ii.inhparent = pi.oid
            JOIN pg_class ci ON ci.oid = ii.inhrelid
            JOIN pg_index x ON x.indexrelid = ci.oid AND x.indisvalid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE pi.relname = $1 AND pi.relnamespace = current_schema()::regnamespace
            """, conn).With(target.Index);
        var result = new Dictionary<string, string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result[reader.GetString(0)] = reader.GetString(1);
        return result;
    }

    private static async Task<Dictionary<string, DateTimeOffset>> LastClusteredAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT target, max(started_at) FROM maintenance_runs
            WHERE task = 'cluster' AND run_id IS NOT NULL AND outcome = 'succeeded'
            GROUP BY target
            """, conn);
        var result = new Dictionary<string, DateTimeOffset>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result[reader.GetString(0)] = reader.GetFieldValue<DateTimeOffset>(1);
        return result;
    }
}
