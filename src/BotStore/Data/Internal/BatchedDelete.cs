using Npgsql;

namespace BotStore.Data.Internal;

/// <summary>
/// The erasers' one loop: a DELETE of at most a batch of rows (its last parameter is the batch size), run as its own
/// transaction again and again until it deletes fewer than a batch. Nothing is kept between batches, so a run that
/// stops leaves whole batches done and the next run finds what remains.
/// </summary>
internal static class BatchedDelete
{
    public static async Task<long> UntilDoneAsync(NpgsqlDataSource dataSource, string sql, int batchSize, Action<long>? report, CancellationToken ct,
        params object?[] args)
    {
        long deleted = 0;
        for (long n = batchSize; n == batchSize;)
        {
            await using var cmd = dataSource.CreateCommand(sql);
            cmd.CommandTimeout = 0;
            foreach (var arg in args.Append(batchSize))
                cmd.Parameters.Add(arg as NpgsqlParameter ?? new NpgsqlParameter { Value = arg });
            n = await cmd.ExecuteNonQueryAsync(ct);
            deleted += n;
            report?.Invoke(deleted);
        }
        return deleted;
    }
}
