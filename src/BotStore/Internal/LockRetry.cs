using Npgsql;

namespace BotStore.Internal;

/// <summary>
/// Runs DDL that needs a strong lock (ATTACH, DETACH, DROP of a partition) so that it never parks in the lock queue:
/// every lock wait is capped by a short <c>lock_timeout</c>, and a timed-out attempt rolls back, pauses for a growing
/// time and tries again. Writers queued behind the attempt wait at most the timeout, not as long as the longest
/// query running on the table.
/// </summary>
internal sealed record LockRetry(TimeSpan LockTimeout, int Attempts, TimeSpan FirstPause)
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="work"/> in one transaction; throws the last lock timeout when every attempt timed out.</summary>
    public async Task<T> RunAsync<T>(NpgsqlConnection conn, Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            try
            {
                await using (var set = new NpgsqlCommand("SELECT set_config('lock_timeout', $1, true)", conn))
                {
                    set.With($"{Math.Max(1, (int)LockTimeout.TotalMilliseconds)}ms");
                    await set.ExecuteNonQueryAsync(ct);
                }
                var result = await work(conn);
                await tx.CommitAsync(ct);
                return result;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable && attempt < Attempts)
            {
                await tx.RollbackAsync(CancellationToken.None);
                var pause = TimeSpan.FromTicks(Math.Min(MaxPause.Ticks, FirstPause.Ticks << Math.Min(attempt - 1, 20)));
                // Jitter, so that several instances retrying the same lock do not collide in step.
                await Task.Delay(pause + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 250)), ct);
            }
        }
    }
}
