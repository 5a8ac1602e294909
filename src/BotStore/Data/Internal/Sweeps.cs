using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>
/// Runs a cross-tenant sweep as the owner: one statement per batch, each taking a transaction-level advisory lock
/// (so it works through PgBouncer in transaction mode and a failed batch releases it), until a batch comes back short.
/// The statement takes $1 = batch size, $2 = lock key and answers (lock held, rows swept, rows of a knock-on effect).
/// </summary>
internal static class Sweeps
{
    public static async Task<(bool Skipped, long Rows, long Effects)> RunAsync(NpgsqlDataSource dataSource, string sql, long lockKey,
        int batchSize, CancellationToken ct)
    {
        if (batchSize < 1)
            throw new BotStoreValidationException($"batch size must be positive (got {batchSize})");
        long rows = 0, effects = 0;
        for (var first = true; ; first = false)
        {
            await using var cmd = dataSource.CreateCommand(sql);
            cmd.Parameters.Add(new NpgsqlParameter { Value = batchSize });
            cmd.Parameters.Add(new NpgsqlParameter { Value = lockKey });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            // Another runner holds the lock: on the first batch this sweep did nothing; later, it stops early.
            if (!reader.GetBoolean(0))
                return (first, rows, effects);
            var batch = reader.GetInt64(1);
            rows += batch;
            effects += reader.GetInt64(2);
            if (batch < batchSize)
                return (false, rows, effects);
        }
    }
}
