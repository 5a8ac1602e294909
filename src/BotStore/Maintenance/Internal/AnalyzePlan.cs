using BotStore.Internal;
using Npgsql;

namespace BotStore.Maintenance.Internal;

/// <summary>
/// The monthly <c>ANALYZE</c>: every partitioned parent first (autovacuum never analyzes a parent, so without this
/// the planner's whole-table statistics of message_history would never change; ANALYZE of a parent also analyzes
/// its partitions), then every other table.
/// </summary>
internal static class AnalyzePlan
{
    public static async Task<List<MaintenanceStep>> BuildAsync(NpgsqlConnection conn, string? table, CancellationToken ct)
    {
        if (table is not null)
        {
            var relation = await Relation.TableAsync(conn, table, ct);
            return [new MaintenanceStep(relation.Name, $"ANALYZE {SqlText.Ident(relation.Name)}", "asked for")];
        }
        await using var cmd = new NpgsqlCommand("""
            SELECT relname, relkind = 'p'
            FROM pg_class
            WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition
            ORDER BY relkind = 'p' DESC, relname
            """, conn);
        var steps = new List<MaintenanceStep>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var name = reader.GetString(0);
            steps.Add(new MaintenanceStep(name, $"ANALYZE {SqlText.Ident(name)}",
                reader.GetBoolean(1) ? "partitioned parent: autovacuum never analyzes it (this also analyzes its partitions)" : "monthly statistics refresh"));
        }
        return steps;
    }
}
