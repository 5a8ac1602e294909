using System.Collections.Concurrent;
using Npgsql;

namespace BotStore.Sharding;

/// <summary>
/// Which shard holds each tenant: <c>tenant_directory</c> on the directory database (migration 0024). Lookups are
/// cached per process for <see cref="CacheTime"/>, so a process learns of a move within that time; it never acts on
/// a stale entry, because the old shard's fence (<c>botstore_enter_tenant</c>) refuses a tenant that has left it, and
/// the router then <see cref="Forget"/>s the entry and asks again. When the directory database cannot be reached, an
/// expired entry is used rather than failing (the fence still guards it), so the other shards keep serving.
/// </summary>
public sealed class TenantDirectory
{
    /// <summary>How long a cached entry is trusted by default.</summary>
    public static readonly TimeSpan DefaultCacheTime = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<long, Entry> _cache = new();
    private readonly TimeProvider _time;

    /// <summary>A directory kept in <paramref name="dataSource"/>'s database (a direct connection, or one through PgBouncer).</summary>
    public TenantDirectory(NpgsqlDataSource dataSource, TimeSpan? cacheTime = null, TimeProvider? time = null)
    {
        DataSource = dataSource;
        CacheTime = cacheTime ?? DefaultCacheTime;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The directory database.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>How long a looked-up entry is trusted before it is read again.</summary>
    public TimeSpan CacheTime { get; }

    /// <summary>The shard that holds the tenant.</summary>
    /// <exception cref="BotStoreNotFoundException">The tenant is not in the directory.</exception>
    /// <exception cref="BotStoreUnavailableException">The directory database cannot be reached and nothing is cached.</exception>
    public async ValueTask<string> ShardOfAsync(long tenantId, CancellationToken ct = default)
    {
        var now = _time.GetTimestamp();
        if (_cache.TryGetValue(tenantId, out var cached) && _time.GetElapsedTime(cached.ReadAt, now) < CacheTime)
            return cached.Shard;
        string? shard;
        try
        {
            shard = await FindAsync(tenantId, ct);
        }
        catch (BotStoreUnavailableException) when (cached is not null)
        {
            return cached.Shard;
        }
        if (shard is null)
        {
            _cache.TryRemove(tenantId, out _);
            throw new BotStoreNotFoundException($"tenant {tenantId} is not in the tenant directory");
        }
        _cache[tenantId] = new Entry(shard, now);
        return shard;
    }

    /// <summary>The shard the directory names now (no cache), or null when the tenant is not in it.</summary>
    public Task<string?> FindAsync(long tenantId, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var cmd = DataSource.CreateCommand("SELECT shard FROM tenant_directory WHERE tenant_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        return await cmd.ExecuteScalarAsync(ct) as string;
    });

    /// <summary>Drops the cached entry: the next lookup reads the directory.</summary>
    public void Forget(long tenantId) => _cache.TryRemove(tenantId, out _);

    /// <summary>
    /// Switches the tenant from <paramref name="from"/> to <paramref name="to"/> (compare-and-set), in
    /// <paramref name="inTransaction"/>'s transaction when given (a connection to the directory database), else on its own.
    /// </summary>
    /// <exception cref="BotStoreConflictException">The directory does not say <paramref name="from"/> (any more).</exception>
    public Task MoveAsync(long tenantId, string from, string to, NpgsqlConnection? inTransaction = null, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
        {
            const string sql = "UPDATE tenant_directory SET shard = $3, moved_at = now() WHERE tenant_id = $1 AND shard = $2";
            await using var cmd = inTransaction is null ? DataSource.CreateCommand(sql) : new NpgsqlCommand(sql, inTransaction);
            cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter { Value = from });
            cmd.Parameters.Add(new NpgsqlParameter { Value = to });
            if (await cmd.ExecuteNonQueryAsync(ct) == 0)
                throw new BotStoreConflictException($"the directory does not place tenant {tenantId} on shard '{from}': it was moved or removed meanwhile");
            Forget(tenantId);
        });

    /// <summary>
    /// Hands out a new tenant id and places it on <paramref name="shard"/>. Ids come from the directory database's
    /// sequence (migration 0020's botstore_next_tenant_id), so no two shards ever hold the same tenant id.
    /// </summary>
    public Task<long> PlaceNewAsync(string shard, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var cmd = DataSource.CreateCommand(
            "INSERT INTO tenant_directory (tenant_id, shard) VALUES (botstore_next_tenant_id(), $1) RETURNING tenant_id");
        cmd.Parameters.Add(new NpgsqlParameter { Value = shard });
        var id = (long)(await cmd.ExecuteScalarAsync(ct))!;
        _cache[id] = new Entry(shard, _time.GetTimestamp());
        return id;
    });

    /// <summary>Removes a placement whose tenant was never created (its shard refused it).</summary>
    public Task UnplaceAsync(long tenantId, string shard, CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        Forget(tenantId);
        await using var cmd = DataSource.CreateCommand("DELETE FROM tenant_directory WHERE tenant_id = $1 AND shard = $2");
        cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = shard });
        await cmd.ExecuteNonQueryAsync(ct);
    });

    /// <summary>
    /// Records tenants found on <paramref name="shard"/> that the directory lacks (a database that held tenants
    /// before it became a shard), and moves the id sequence past them. Returns the ids the directory places
    /// elsewhere: the same tenant id on two shards.
    /// </summary>
    public Task<IReadOnlyList<(long TenantId, string Shard)>> RegisterAsync(string shard, IReadOnlyList<long> tenantIds, CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<(long, string)>>(async () =>
        {
            await using var cmd = DataSource.CreateCommand("""
                WITH added AS (
                    INSERT INTO tenant_directory (tenant_id, shard) SELECT unnest($1::bigint[]), $2
                    ON CONFLICT (tenant_id) DO NOTHING RETURNING tenant_id
                ), bumped AS (
                    SELECT setval('tenant_id_seq', greatest((SELECT last_value FROM tenant_id_seq), max(id / 1024) + 1))
                    FROM unnest($1::bigint[]) AS id HAVING count(*) > 0
                )
                SELECT d.tenant_id, d.shard FROM tenant_directory d, bumped
                WHERE d.tenant_id = ANY ($1) AND d.shard <> $2 AND d.tenant_id NOT IN (SELECT tenant_id FROM added)
                """);
            cmd.Parameters.Add(new NpgsqlParameter { Value = tenantIds.ToArray() });
            cmd.Parameters.Add(new NpgsqlParameter { Value = shard });
            var clashes = new List<(long, string)>();
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                clashes.Add((reader.GetInt64(0), reader.GetString(1)));
            return clashes;
        });

    /// <summary>How many tenants the directory places on each shard.</summary>
    public Task<IReadOnlyDictionary<string, long>> CountsAsync(CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyDictionary<string, long>>(async () =>
        {
            await using var cmd = DataSource.CreateCommand("SELECT shard, count(*) FROM tenant_directory GROUP BY shard");
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                counts[reader.GetString(0)] = reader.GetInt64(1);
            return counts;
        });

    private sealed record Entry(string Shard, long ReadAt);
}
