using BotStore.Internal;
using Npgsql;

namespace BotStore.Monitoring;

/// <summary>How <see cref="DatabaseReports.SlowQueriesAsync"/> ranks statements.</summary>
public enum QueryOrder
{
    /// <summary>By total execution time: what costs the server most.</summary>
    Total,

    /// <summary>By mean execution time: what each caller waits longest for.</summary>
    Mean,

    /// <summary>By number of calls.</summary>
    Calls,
}

public sealed partial class DatabaseReports
{
    /// <summary>
    /// The statements of this database that cost most, from pg_stat_statements (created by <c>migrate</c> where the
    /// server offers it, and only useful when it is in <c>shared_preload_libraries</c>). When it is not available
    /// the report says why instead of failing.
    /// </summary>
    public Task<SlowQueryReport> SlowQueriesAsync(int limit = 20, QueryOrder order = QueryOrder.Total, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            if (await StatStatementsSchemaAsync(conn, ct) is not { } schema)
                return new SlowQueryReport(false, "pg_stat_statements is not installed in this database: run 'botstore migrate' as a superuser on a server that offers it (postgresql-contrib)", []);
            var orderBy = order switch
            {
                QueryOrder.Mean => "mean_exec_time",
                QueryOrder.Calls => "calls",
                _ => "total_exec_time",
            };
            await using var cmd = new NpgsqlCommand($"""
                SELECT queryid, query, calls, total_exec_time, mean_exec_time, max_exec_time, rows, shared_blks_hit, shared_blks_read, stddev_exec_time
                FROM {SqlText.Ident(schema)}.pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND queryid IS NOT NULL
                ORDER BY {orderBy} DESC, queryid
                LIMIT $1
                """, conn).With(Math.Clamp(limit, 1, 1000));
            var queries = new List<QueryStats>();
            try
            {
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    queries.Add(new QueryStats(reader.GetInt64(0), reader.IsDBNull(1) ? "" : reader.GetString(1), reader.GetInt64(2), reader.GetDouble(3),
                        reader.GetDouble(4), reader.GetDouble(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetDouble(9)));
                }
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ObjectNotInPrerequisiteState)
            {
                return new SlowQueryReport(false, $"pg_stat_statements is installed but not loaded: add it to shared_preload_libraries and restart ({ex.MessageText})", []);
            }
            return new SlowQueryReport(true, null, queries);
        });

    /// <summary>
    /// Starts pg_stat_statements' figures afresh for this database (e.g. after an index was added, to see its effect).
    /// Returns false when pg_stat_statements is not installed here.
    /// </summary>
    public Task<bool> ResetQueryStatisticsAsync(CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            if (await StatStatementsSchemaAsync(conn, ct) is not { } schema)
                return false;
            await using var reset = new NpgsqlCommand($"""
                SELECT {SqlText.Ident(schema)}.pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)
                """, conn);
            await reset.ExecuteNonQueryAsync(ct);
            return true;
        });

    private static async Task<string?> StatStatementsSchemaAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var find = new NpgsqlCommand("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_stat_statements'", conn);
        return await find.ExecuteScalarAsync(ct) as string;
    }
}

/// <summary>The costliest statements, or why they cannot be shown.</summary>
/// <param name="Available">Whether pg_stat_statements could be read.</param>
/// <param name="Unavailable">Why not, and how to fix it.</param>
/// <param name="Queries">The statements, costliest first.</param>
public sealed record SlowQueryReport(bool Available, string? Unavailable, IReadOnlyList<QueryStats> Queries);

/// <summary>One normalised statement's totals since pg_stat_statements was last reset.</summary>
/// <param name="QueryId">pg_stat_statements' queryid.</param>
/// <param name="Query">The normalised text ($1 for constants).</param>
/// <param name="Calls">Executions.</param>
/// <param name="TotalMs">Total execution time.</param>
/// <param name="MeanMs">Mean execution time.</param>
/// <param name="MaxMs">Longest execution.</param>
/// <param name="Rows">Rows returned or affected.</param>
/// <param name="SharedBlocksHit">Shared buffer hits.</param>
/// <param name="SharedBlocksRead">Shared blocks read from disk (or the OS cache).</param>
/// <param name="StddevMs">Standard deviation of the execution time.</param>
public sealed record QueryStats(long QueryId, string Query, long Calls, double TotalMs, double MeanMs, double MaxMs, long Rows, long SharedBlocksHit,
    long SharedBlocksRead, double StddevMs)
{
    /// <summary>
    /// A rough 95th percentile: mean + 2 standard deviations, never above the longest call. pg_stat_statements keeps
    /// no histogram, so this is the closest figure it allows; for a skewed distribution it errs low, and max is beside it.
    /// </summary>
    public double ApproxP95Ms => Math.Min(MaxMs, MeanMs + 2 * StddevMs);
}
