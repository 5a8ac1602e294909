using BotStore.Tests.Operations;
using Npgsql;

namespace BotStore.Tests.Infrastructure;

/// <summary>A write whose caller gives up while it waits inside the server (Rows.UntilSent: it must finish).</summary>
internal static class BlockedWrite
{
    /// <summary>
    /// Holds a row (<paramref name="lockSql"/>, its one parameter <paramref name="id"/>) in a transaction of its own,
    /// starts <paramref name="write"/>, cancels its token once the server shows it waiting on a lock (its query
    /// containing <paramref name="marker"/>, in this test's database only: other tests share the cluster), and
    /// checks that it is still under way half a second later: had the cancellation reached the server, the write
    /// would have ended with 57014. Then releases the row and returns what the write returned.
    /// </summary>
    public static async Task<T> CancelWhileWaitingAsync<T>(TestDatabase db, string lockSql, Guid id, string marker, Func<CancellationToken, Task<T>> write)
    {
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var tx = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand(lockSql, holder, tx))
        {
            hold.Parameters.Add(new NpgsqlParameter { Value = id });
            await hold.ExecuteNonQueryAsync();
        }
        using var impatient = new CancellationTokenSource();
        var writing = write(impatient.Token);
        Assert.True(await OperationsData.EventuallyAsync(() => db.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, $1) > 0)",
            marker)));
        await impatient.CancelAsync();
        await Task.WhenAny(writing, Task.Delay(TimeSpan.FromMilliseconds(500)));
        Assert.False(writing.IsCompleted, writing.Exception?.ToString());
        await tx.CommitAsync();
        return await writing;
    }
}
