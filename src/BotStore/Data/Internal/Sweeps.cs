using BotStore.Internal;
using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>
/// Runs a cross-tenant sweep as the owner under the sweep's <see cref="RunnerLock"/> (the one lock kind of every
/// background runner: a session advisory lock, so the data source must connect directly): one statement per batch,
/// each its own transaction, until a batch comes back short. The statement takes $1 = batch size and answers
/// (rows swept, rows of a knock-on effect).
/// </summary>
internal static class Sweeps
{
    public static async Task<(bool Skipped, long Rows, long Effects)> RunAsync(NpgsqlDataSource dataSource, string sql, long lockKey,
        int batchSize, CancellationToken ct)
    {
        if (batchSize < 1)
            throw new BotStoreValidationException($"batch size must be positive (got {batchSize})");
        await using var runner = await RunnerLock.AcquireAsync(dataSource, lockKey, wait: false, ct);
        if (runner is null)
            return (true, 0, 0); // another instance is sweeping this kind right now
        long rows = 0, effects = 0;
        while (true)
        {
            await using var cmd = new NpgsqlCommand(sql, runner.Connection);
            cmd.Parameters.Add(new NpgsqlParameter { Value = batchSize });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var batch = reader.GetInt64(0);
            rows += batch;
            effects += reader.GetInt64(1);
            if (batch < batchSize)
                return (false, rows, effects);
        }
    }
}
