using BotStore.Internal;
using BotStore.Maintenance;
using Npgsql;

namespace BotStore.Monitoring.Internal;

/// <summary>Estimated bloat of one relation: bytes beyond what its rows would need if freshly packed.</summary>
/// <param name="Ratio">Bloat as a fraction of the relation's size (0 to 1).</param>
/// <param name="Bytes">Bloat in bytes.</param>
/// <param name="Method"><c>pgstatindex</c> or <c>statistics</c>.</param>
internal sealed record BloatEstimate(double Ratio, long Bytes, string Method);

/// <summary>
/// Measures bloat. Indexes: pgstattuple's <c>pgstatindex</c> when asked for and available (exact leaf density,
/// but it reads the whole index), else the statistics estimate of <c>Sql/index_bloat_estimate.sql</c>. Tables:
/// always the statistics estimate of <c>Sql/table_bloat_estimate.sql</c>. Relations without statistics get none.
/// </summary>
internal static class Bloat
{
    public static async Task<Dictionary<uint, BloatEstimate>> OfIndexesAsync(NpgsqlConnection conn, IReadOnlyCollection<uint> btreeIndexes,
        IndexBloatMethod method, CancellationToken ct)
    {
        if (method != IndexBloatMethod.Statistics)
        {
            var schema = await PgStatTupleSchemaAsync(conn, ct);
            if (schema is null && method == IndexBloatMethod.PgStatIndex)
                throw new BotStoreConfigurationException("bloat method pgstatindex needs the pgstattuple extension: CREATE EXTENSION pgstattuple (as a superuser), or use the statistics method");
            if (schema is not null && await TryPgStatIndexAsync(conn, schema, btreeIndexes, ct) is { } exact)
                return exact;
        }
        return await EstimateAsync(conn, "index_bloat_estimate", btreeIndexes, ct);
    }

    public static Task<Dictionary<uint, BloatEstimate>> OfTablesAsync(NpgsqlConnection conn, IReadOnlyCollection<uint> tables, CancellationToken ct) =>
        EstimateAsync(conn, "table_bloat_estimate", tables, ct);

    private static async Task<string?> PgStatTupleSchemaAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pgstattuple'", conn);
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>Null when this role may not run pgstatindex (it needs pg_stat_scan_tables or a superuser).</summary>
    private static async Task<Dictionary<uint, BloatEstimate>?> TryPgStatIndexAsync(NpgsqlConnection conn, string schema, IReadOnlyCollection<uint> indexes,
        CancellationToken ct)
    {
        var result = new Dictionary<uint, BloatEstimate>();
        await using var cmd = new NpgsqlCommand($"""
            SELECT s.avg_leaf_density, s.index_size,
                   coalesce((SELECT substring(o FROM '^fillfactor=(\d+)$')::int FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%'), 90)
            FROM pg_class c, {SqlText.Ident(schema)}.pgstatindex(c.oid::regclass) s
            WHERE c.oid = $1
            """, conn) { CommandTimeout = 0 };
        var oid = SqlText.Oid(0);
        cmd.Parameters.Add(oid);
        foreach (var index in indexes)
        {
            oid.Value = index;
            try
            {
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                    continue;
                var density = reader.GetDouble(0);
                var size = reader.GetInt64(1);
                var ratio = double.IsNaN(density) ? 0 : Math.Clamp(1 - density / reader.GetInt32(2), 0, 1);
                result[index] = new BloatEstimate(ratio, (long)(ratio * size), "pgstatindex");
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                return null;
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.ObjectNotInPrerequisiteState)
            {
                // Dropped meanwhile, or not measurable (e.g. an invalid index): no estimate.
            }
        }
        return result;
    }

    private static async Task<Dictionary<uint, BloatEstimate>> EstimateAsync(NpgsqlConnection conn, string query, IReadOnlyCollection<uint> oids,
        CancellationToken ct)
    {
        var result = new Dictionary<uint, BloatEstimate>();
        await using var cmd = new NpgsqlCommand(SqlText.Embedded(query), conn);
        cmd.Parameters.Add(SqlText.Oids(oids));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (reader.IsDBNull(2))
                continue;
            var actual = reader.GetInt64(1);
            var bloat = Math.Max(0, actual - reader.GetInt64(2));
            result[reader.GetFieldValue<uint>(0)] = new BloatEstimate(actual > 0 ? (double)bloat / actual : 0, bloat, "statistics");
        }
        return result;
    }
}
