using BotStore.Internal;
using Npgsql;

namespace BotStore.Monitoring;

public sealed partial class DatabaseReports
{
    /// <summary>
    /// Vacuum and analyze health of every table, partitioned parent and partition: live and dead rows, changes since
    /// the last analyze, when each was last vacuumed and analyzed (by hand or by autovacuum), and transaction-id age
    /// (wraparound risk). A parent shows only its own analyze times: autovacuum never analyzes it.
    /// </summary>
    public Task<IReadOnlyList<VacuumReport>> VacuumAsync(CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<VacuumReport>>(async () =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var cmd = new NpgsqlCommand("""
                SELECT c.relname, CASE WHEN c.relkind = 'p' THEN 'partitioned' WHEN c.relispartition THEN 'partition' ELSE 'table' END,
                       pg_stat_get_live_tuples(c.oid), pg_stat_get_dead_tuples(c.oid), pg_stat_get_mod_since_analyze(c.oid),
                       pg_stat_get_last_vacuum_time(c.oid), pg_stat_get_last_autovacuum_time(c.oid),
                       pg_stat_get_last_analyze_time(c.oid), pg_stat_get_last_autoanalyze_time(c.oid),
                       pg_stat_get_vacuum_count(c.oid) + pg_stat_get_autovacuum_count(c.oid),
                       pg_stat_get_analyze_count(c.oid) + pg_stat_get_autoanalyze_count(c.oid),
                       CASE WHEN c.relkind = 'r' THEN age(c.relfrozenxid) END
                FROM pg_class c
                WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
                ORDER BY pg_stat_get_dead_tuples(c.oid) DESC, c.relname
                """, conn);
            var now = DateTimeOffset.UtcNow;
            var result = new List<VacuumReport>();
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var live = reader.GetInt64(2);
                var dead = reader.GetInt64(3);
                var vacuumed = Latest(NullableTime(reader, 5), NullableTime(reader, 6));
                var analyzed = Latest(NullableTime(reader, 7), NullableTime(reader, 8));
                result.Add(new VacuumReport(reader.GetString(0), reader.GetString(1), live, dead, live + dead > 0 ? (double)dead / (live + dead) : 0,
                    reader.GetInt64(4), NullableTime(reader, 5), NullableTime(reader, 6), NullableTime(reader, 7), NullableTime(reader, 8),
                    (now - vacuumed)?.TotalSeconds, (now - analyzed)?.TotalSeconds, reader.GetInt64(9), reader.GetInt64(10),
                    reader.IsDBNull(11) ? null : reader.GetInt32(11)));
            }
            return result;
        });

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : (a > b ? a : b);
}

/// <summary>One table's vacuum and analyze health.</summary>
/// <param name="Table">The table.</param>
/// <param name="Kind"><c>table</c>, <c>partitioned</c> or <c>partition</c>.</param>
/// <param name="LiveRows">Live rows (statistics collector).</param>
/// <param name="DeadRows">Dead rows waiting for vacuum.</param>
/// <param name="DeadRatio">Dead rows as a fraction of all.</param>
/// <param name="ModifiedSinceAnalyze">Rows changed since the last analyze.</param>
/// <param name="LastVacuum">Last manual VACUUM.</param>
/// <param name="LastAutovacuum">Last autovacuum.</param>
/// <param name="LastAnalyze">Last manual ANALYZE.</param>
/// <param name="LastAutoanalyze">Last autoanalyze.</param>
/// <param name="VacuumAgeSeconds">Seconds since the last vacuum of either kind; null if never.</param>
/// <param name="AnalyzeAgeSeconds">Seconds since the last analyze of either kind; null if never.</param>
/// <param name="Vacuums">Vacuums of either kind since statistics were reset.</param>
/// <param name="Analyzes">Analyzes of either kind since statistics were reset.</param>
/// <param name="XidAge">Transactions since its oldest unfrozen row (autovacuum forces a freeze at 200 million); null for a parent.</param>
public sealed record VacuumReport(string Table, string Kind, long LiveRows, long DeadRows, double DeadRatio, long ModifiedSinceAnalyze,
    DateTimeOffset? LastVacuum, DateTimeOffset? LastAutovacuum, DateTimeOffset? LastAnalyze, DateTimeOffset? LastAutoanalyze,
    double? VacuumAgeSeconds, double? AnalyzeAgeSeconds, long Vacuums, long Analyzes, int? XidAge);
