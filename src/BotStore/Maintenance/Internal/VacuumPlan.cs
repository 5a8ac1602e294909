using BotStore.Internal;
using Npgsql;

namespace BotStore.Maintenance.Internal;

/// <summary>The optional <c>VACUUM (ANALYZE)</c> of the chosen tables (<see cref="MaintenanceOptions.VacuumTables"/>, or <c>--table</c>).</summary>
internal static class VacuumPlan
{
    public static async Task<List<MaintenanceStep>> BuildAsync(NpgsqlConnection conn, MaintenanceOptions options, string? table, CancellationToken ct)
    {
        var steps = new List<MaintenanceStep>();
        foreach (var name in table is null ? options.VacuumTables : [table])
        {
            var relation = await Relation.TableAsync(conn, name, ct);
            steps.Add(new MaintenanceStep(relation.Name, $"VACUUM (ANALYZE) {SqlText.Ident(relation.Name)}", table is null ? "chosen in configuration" : "asked for"));
        }
        return steps;
    }
}
