using Npgsql;

namespace BotStore.Internal;

/// <summary>
/// One runner across all BotStore instances for a kind of operations work: a session advisory lock held on a
/// dedicated connection for as long as the work lasts. Needs a direct connection (not PgBouncer in transaction
/// mode), as migrations do. Disposing releases the lock and returns the connection.
/// </summary>
internal sealed class RunnerLock : IAsyncDisposable
{
    /// <summary>Key of the partition manager ("bspart" in ASCII); distinct from the migrator's.</summary>
    public const long Partitions = 0x627370617274;

    /// <summary>Key of the maintenance runner ("bsmaint" in ASCII).</summary>
    public const long Maintenance = 0x62736d61696e74;

    /// <summary>Key of the approval expiry sweep ("bs:apprv" in ASCII).</summary>
    public const long ApprovalSweep = 0x62733a6170707276;

    /// <summary>Key of the memory expiry sweep ("bs:memex" in ASCII).</summary>
    public const long MemorySweep = 0x62733a6d656d6578;

    private readonly long _key;

    private RunnerLock(NpgsqlConnection connection, long key)
    {
        Connection = connection;
        _key = key;
    }

    /// <summary>The connection that holds the lock; the work may run on it.</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>
    /// Takes the lock: waits for the holder when <paramref name="wait"/>, else returns null at once when another
    /// session holds it.
    /// </summary>
    public static async Task<RunnerLock?> AcquireAsync(NpgsqlDataSource dataSource, long key, bool wait, CancellationToken ct)
    {
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = new NpgsqlCommand(wait ? "SELECT pg_advisory_lock($1), true" : "SELECT true, pg_try_advisory_lock($1)", conn)
                { CommandTimeout = 0 };
            cmd.With(key);
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                if (reader.GetBoolean(1))
                    return new RunnerLock(conn, key);
            }
            await conn.DisposeAsync();
            return null;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Connection.FullState == System.Data.ConnectionState.Open)
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", Connection).With(_key);
                await cmd.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
        catch (NpgsqlException)
        {
            // A broken connection has lost its session, and the lock with it.
        }
        finally
        {
            await Connection.DisposeAsync();
        }
    }
}
