using Npgsql;
using BotStore.Internal;

namespace BotStore.Monitoring;

/// <summary>The seed's <c>EXPLAIN (ANALYZE, BUFFERS)</c>, safe to aim at a production database.</summary>
public static class ExplainAnalyze
{
    /// <summary>
    /// Runs the statement under <c>EXPLAIN (ANALYZE, BUFFERS)</c> inside a transaction that is always rolled back,
    /// so an INSERT, UPDATE or DELETE is measured but changes nothing (sequences still advance: nextval is not
    /// transactional). The statement goes alone through the extended protocol, so the server refuses a second
    /// statement (e.g. a smuggled COMMIT) rather than running it. Returns the plan's lines.
    /// </summary>
    /// <exception cref="BotStoreValidationException">Empty, several statements, or a statement PostgreSQL rejects.</exception>
    public static Task<IReadOnlyList<string>> RunAsync(NpgsqlDataSource dataSource, string sql, CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<string>>(async () =>
        {
            var statement = sql.Trim().TrimEnd(';').Trim();
            if (statement.Length == 0)
                throw new BotStoreValidationException("nothing to explain: give one SQL statement");
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            try
            {
                // A batch command is sent as written (no client-side splitting on ';'), as one extended-protocol statement.
                await using var batch = new NpgsqlBatch(conn, tx) { BatchCommands = { new NpgsqlBatchCommand("EXPLAIN (ANALYZE, BUFFERS) " + statement) } };
                var lines = new List<string>();
                await using (var reader = await batch.ExecuteReaderAsync(ct))
                {
                    while (await reader.ReadAsync(ct))
                        lines.Add(reader.GetString(0));
                }
                return lines;
            }
            catch (PostgresException ex) when (PostgresErrors.Translate(ex) is null)
            {
                throw new BotStoreValidationException($"cannot explain that statement: {ex.MessageText}", ex);
            }
            finally
            {
                await tx.RollbackAsync(CancellationToken.None);
            }
        });
}
