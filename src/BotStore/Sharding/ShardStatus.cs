using System.Globalization;
using Npgsql;

namespace BotStore.Sharding;

/// <summary>
/// One shard at a glance, what <c>botstore shards status</c> and the dashboard's Shards page show: whether it answers
/// (else why not), its server version, tenants (its own rows and the directory's count), size, connections, the lag of
/// each tenant move it is the source of, and what logical replication (tenant moves) lacks on it.
/// </summary>
/// <param name="Shard">The shard's name.</param>
/// <param name="Where">Where it is (host, port and database; never a password).</param>
/// <param name="Reachable">Whether it answered.</param>
/// <param name="Error">Why not, when it did not.</param>
/// <param name="Version">PostgreSQL's server_version.</param>
/// <param name="Tenants">Rows of <c>tenants</c> on the shard (a moved tenant's leftovers count until they are deleted).</param>
/// <param name="DirectoryTenants">Tenants the directory places on the shard (null with one shard, or when the directory did not answer).</param>
/// <param name="SizeBytes">The database's size.</param>
/// <param name="Connections">Backends connected to the database.</param>
/// <param name="MoveLagBytes">The largest lag of a move in progress from this shard (WAL bytes its target has not confirmed); null without one.</param>
/// <param name="Missing">What tenant moves need and the server lacks.</param>
/// <param name="Moves">The moves in progress from this shard, each with its lag.</param>
public sealed record ShardStatus(string Shard, string Where, bool Reachable, string? Error, string? Version, long? Tenants,
    long? DirectoryTenants, long? SizeBytes, long? Connections, long? MoveLagBytes, IReadOnlyList<string> Missing, IReadOnlyList<MoveLag> Moves)
{
    // One round trip per shard: what status shows, and what logical replication (tenant moves) needs. A move's slot is
    // named botstore_move_<tenant>_<random> (the mover's); its lag is the WAL the target has not confirmed yet.
    private const string Sql = """
        SELECT current_setting('server_version'),
               (SELECT count(*) FROM tenants),
               pg_database_size(current_database()),
               (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()),
               current_setting('wal_level'),
               current_setting('max_replication_slots')::int,
               current_setting('max_wal_senders')::int,
               (SELECT coalesce(array_agg(slot_name::text ORDER BY slot_name), '{}') FROM pg_replication_slots
                WHERE slot_type = 'logical' AND database = current_database() AND slot_name LIKE 'botstore\_move\_%'),
               (SELECT coalesce(array_agg(coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint ORDER BY slot_name), '{}')
                FROM pg_replication_slots
                WHERE slot_type = 'logical' AND database = current_database() AND slot_name LIKE 'botstore\_move\_%')
        """;

    /// <summary>
    /// Every shard of <paramref name="router"/> at once, on its direct data source, with the directory's tenant counts
    /// when there are several shards. A shard that does not answer is a row that says why; nothing throws.
    /// </summary>
    public static async Task<IReadOnlyList<ShardStatus>> ReadAsync(ShardRouter router, Func<Shard, string>? where = null, CancellationToken ct = default)
    {
        where ??= s => Describe(s.Direct);
        var rows = await Task.WhenAll(router.Shards.Select(s => ReadOneAsync(s.Name, s.Direct, where(s), ct)));
        if (router.IsSingle || !rows.Any(r => r.Reachable))
            return rows;
        try
        {
            // The directory's count is what placement uses; a shard's own count includes a moved tenant's leftovers.
            var counts = await router.Directory.CountsAsync(ct);
            return rows.Select(r => r with { DirectoryTenants = counts.GetValueOrDefault(r.Shard) }).ToArray();
        }
        catch (BotStoreException)
        {
            return rows; // the directory shard is down: its own row says so
        }
    }

    /// <summary>One shard, on <paramref name="dataSource"/> (a direct connection); a shard that does not answer is a row that says why.</summary>
    public static async Task<ShardStatus> ReadOneAsync(string shard, NpgsqlDataSource dataSource, string where, CancellationToken ct = default)
    {
        try
        {
            return await PostgresErrors.Guard(async () =>
            {
                await using var cmd = dataSource.CreateCommand(Sql);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                await r.ReadAsync(ct);
                var missing = new List<string>();
                if (r.GetString(4) != "logical")
                    missing.Add($"wal_level = logical (is {r.GetString(4)}; needs a restart)");
                if (r.GetInt32(5) < 2)
                    missing.Add("max_replication_slots >= 2");
                if (r.GetInt32(6) < 2)
                    missing.Add("max_wal_senders >= 2");
                var slots = r.GetFieldValue<string[]>(7);
                var lags = r.GetFieldValue<long[]>(8);
                var moves = slots.Zip(lags, (slot, lag) => new MoveLag(TenantOf(slot), slot, lag)).ToArray();
                return new ShardStatus(shard, where, true, null, r.GetString(0), r.GetInt64(1), null, r.GetInt64(2), r.GetInt64(3),
                    moves.Length == 0 ? null : moves.Max(m => m.LagBytes), missing, moves);
            });
        }
        catch (BotStoreException ex)
        {
            return new ShardStatus(shard, where, false, ex.Message, null, null, null, null, null, null, [], []);
        }
    }

    /// <summary>host:port/database of a data source, without credentials.</summary>
    public static string Describe(NpgsqlDataSource dataSource)
    {
        var b = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        return string.Create(CultureInfo.InvariantCulture, $"{b.Host}:{b.Port}/{b.Database}");
    }

    // botstore_move_<tenant>_<random>
    private static long? TenantOf(string slot) =>
        slot.Split('_') is [_, _, var tenant, ..] && long.TryParse(tenant, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
}

/// <summary>A tenant move in progress, seen from its source shard.</summary>
/// <param name="TenantId">The tenant being moved (from the slot's name).</param>
/// <param name="Slot">The move's replication slot (and publication) name.</param>
/// <param name="LagBytes">WAL the target has not confirmed yet.</param>
public sealed record MoveLag(long? TenantId, string Slot, long LagBytes);
