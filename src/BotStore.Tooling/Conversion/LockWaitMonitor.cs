using BotStore.Internal;
using Npgsql;

namespace BotStore.Tooling.Conversion;

/// <summary>
/// Measures how long other sessions wait for locks on given tables, or behind a session named
/// <c>botstore convert</c>, by sampling <c>pg_locks.waitstart</c> from a connection of its own. A wait is seen to
/// the last sample before it ends, so a figure can be short by up to one interval.
/// </summary>
public sealed class LockWaitMonitor : IAsyncDisposable
{
    /// <summary>The application name of every connection a conversion opens (waits behind them are counted; theirs are not).</summary>
    public const string ApplicationName = "botstore convert";

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _longestTicks;

    private LockWaitMonitor(NpgsqlConnection conn, uint[] relations, TimeSpan interval)
    {
        _loop = Task.Run(() => LoopAsync(conn, relations, interval, _stop.Token));
    }

    /// <summary>The longest wait seen so far.</summary>
    public TimeSpan Longest => TimeSpan.FromTicks(Interlocked.Read(ref _longestTicks));

    /// <summary>Starts sampling every <paramref name="interval"/> waits on <paramref name="relations"/> (table oids) and behind conversions.</summary>
    public static async Task<LockWaitMonitor> StartAsync(NpgsqlDataSource dataSource, IEnumerable<uint> relations, TimeSpan interval, CancellationToken ct = default)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        await using (var name = new NpgsqlCommand($"SET application_name = '{ApplicationName} monitor'", conn))
            await name.ExecuteNonQueryAsync(ct);
        return new LockWaitMonitor(conn, relations.ToArray(), interval);
    }

    /// <summary>Stops sampling and returns the longest wait seen.</summary>
    public async Task<TimeSpan> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return Longest;
    }

    /// <summary>Stops sampling and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task LoopAsync(NpgsqlConnection conn, uint[] relations, TimeSpan interval, CancellationToken ct)
    {
        await using var _ = conn;
        await using var cmd = new NpgsqlCommand("""
            SELECT COALESCE(extract(epoch FROM max(clock_timestamp() - l.waitstart)), 0)::float8
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE NOT l.granted AND l.waitstart IS NOT NULL AND a.pid <> pg_backend_pid() AND a.application_name NOT LIKE 'botstore convert%'
              AND (l.relation = ANY ($1)
                   OR EXISTS (SELECT 1 FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(l.pid)) AND b.application_name LIKE 'botstore convert%'))
            """, conn);
        cmd.Parameters.Add(SqlText.Oids(relations));
        await cmd.PrepareAsync(CancellationToken.None);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var seconds = (double)(await cmd.ExecuteScalarAsync(CancellationToken.None))!;
                var ticks = (long)(seconds * TimeSpan.TicksPerSecond);
                if (ticks > Interlocked.Read(ref _longestTicks))
                    Interlocked.Exchange(ref _longestTicks, ticks);
                await Task.Delay(interval, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (NpgsqlException)
            {
                // The monitor only observes: a lost connection ends the measurement, not the conversion.
                return;
            }
        }
    }
}
