using System.Globalization;
using BotStore.Data;
using BotStore.Internal;
using Npgsql;

namespace BotStore.Sharding.Moves.Internal;

/// <summary>
/// The logical-replication objects of one tenant's move, all named <c>botstore_move_&lt;tenant&gt;_&lt;random&gt;</c>: a publication
/// and a pgoutput slot on the source, a subscription on the target. Every method is idempotent, so a resumed move
/// simply calls them again.
/// </summary>
internal sealed class Replication(long tenantId, string name, MoveShard source, MoveShard target)
{
    /// <summary>
    /// A new name for a move: slot names are per cluster (and shards may share one), so the tenant id alone could
    /// clash; the journal keeps the name for resumption.
    /// </summary>
    public static string NewName(long tenantId) =>
        $"botstore_move_{tenantId.ToString(CultureInfo.InvariantCulture)}_{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";

    public string Name { get; } = name;

    /// <summary>
    /// The publication: every tenant table filtered to the tenant (tenants by id). Partitioned tables publish as their
    /// root, so the target routes rows into its own partitions. TRUNCATE is not published: it knows no row filter
    /// and would empty the target's tables for every tenant.
    /// </summary>
    public async Task EnsurePublicationAsync(CancellationToken ct)
    {
        await using var exists = source.DataSource.CreateCommand("SELECT count(*) FROM pg_publication WHERE pubname = $1").With(Name);
        if ((long)(await exists.ExecuteScalarAsync(ct))! > 0)
            return;
        var id = tenantId.ToString(CultureInfo.InvariantCulture);
        var tables = string.Join(", ", TenantEraser.Tables.Select(t => $"{SqlText.Ident(t)} WHERE ({(t == "tenants" ? "id" : "tenant_id")} = {id})"));
        await using var create = source.DataSource.CreateCommand(
            $"CREATE PUBLICATION {SqlText.Ident(Name)} FOR TABLE {tables} WITH (publish = 'insert, update, delete', publish_via_partition_root = true)");
        await create.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The slot, made here rather than by CREATE SUBSCRIPTION: that command cannot create a slot on its own cluster
    /// (it would wait for its own transaction), and two shards may be databases of one cluster.
    /// </summary>
    public async Task EnsureSlotAsync(CancellationToken ct)
    {
        await using var cmd = source.DataSource.CreateCommand("""
            SELECT pg_create_logical_replication_slot($1, 'pgoutput') WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)
            """).With(Name);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The subscription, copying the tenant's existing rows first.</summary>
    public async Task EnsureSubscriptionAsync(CancellationToken ct)
    {
        if (await SubscriptionOidAsync(ct) is not null)
            return;
        var conninfo = source.PublisherConnectionString.Replace("'", "''", StringComparison.Ordinal);
        await using var create = target.DataSource.CreateCommand(
            $"CREATE SUBSCRIPTION {SqlText.Ident(Name)} CONNECTION '{conninfo}' PUBLICATION {SqlText.Ident(Name)} " +
            $"WITH (create_slot = false, slot_name = '{Name}', copy_data = true, enabled = true)");
        create.CommandTimeout = 0;
        await create.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Tables whose initial copy is done, of all the subscription's tables, and rows being copied right now.</summary>
    public async Task<(int Ready, int Tables, long RowsInFlight, long Errors)> CopyStateAsync(CancellationToken ct)
    {
        await using var cmd = target.DataSource.CreateCommand("""
            SELECT count(*) FILTER (WHERE r.srsubstate = 'r'), count(*),
                   (SELECT coalesce(sum(p.tuples_processed), 0) FROM pg_stat_progress_copy p WHERE p.datname = current_database() AND p.command = 'COPY FROM'),
                   (SELECT coalesce(max(st.apply_error_count + st.sync_error_count), 0) FROM pg_stat_subscription_stats st WHERE st.subname = $1)
            FROM pg_subscription s JOIN pg_subscription_rel r ON r.srsubid = s.oid WHERE s.subname = $1
            """).With(Name);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), reader.GetInt64(3));
    }

    /// <summary>Bytes of the source's WAL the target has not confirmed yet.</summary>
    public async Task<long> LagBytesAsync(CancellationToken ct)
    {
        await using var cmd = source.DataSource.CreateCommand("""
            SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1
            """).With(Name);
        return await cmd.ExecuteScalarAsync(ct) is long lag ? lag : throw new BotStoreException($"replication slot {Name} is missing on shard '{source.Name}'");
    }

    /// <summary>
    /// Whether the target has applied a transaction that committed after <paramref name="lsn"/>: the subscription's
    /// replication origin holds the end of the last remote commit applied, visible as soon as it commits there
    /// (the slot's confirmed position would wait for the target's WAL flush and its next status report).
    /// </summary>
    public async Task<bool> AppliedPastAsync(string lsn, CancellationToken ct)
    {
        await using var cmd = target.DataSource.CreateCommand("""
            SELECT pg_replication_origin_progress('pg_' || s.oid, false) >= $2::pg_lsn FROM pg_subscription s
            WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            """).With(Name, lsn);
        return await cmd.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>
    /// Drops the subscription (which drops its slot and any table-sync slots on the source), then whatever is left on
    /// the source: the slot (when the source could not be reached from the target) and the publication.
    /// </summary>
    public async Task DropAsync(CancellationToken ct)
    {
        if (await SubscriptionOidAsync(ct) is not null)
        {
            try
            {
                await ExecuteAsync(target.DataSource, $"DROP SUBSCRIPTION IF EXISTS {SqlText.Ident(Name)}", ct);
            }
            catch (PostgresException)
            {
                // The source did not answer the target: detach the slot and drop the subscription alone.
                await ExecuteAsync(target.DataSource, $"ALTER SUBSCRIPTION {SqlText.Ident(Name)} DISABLE", ct);
                await ExecuteAsync(target.DataSource, $"ALTER SUBSCRIPTION {SqlText.Ident(Name)} SET (slot_name = NONE)", ct);
                await ExecuteAsync(target.DataSource, $"DROP SUBSCRIPTION {SqlText.Ident(Name)}", ct);
            }
        }
        // A walsender stops a moment after its subscriber has gone; its slot can be dropped once it is inactive.
        for (var attempt = 0; ; attempt++)
        {
            await using var slot = source.DataSource.CreateCommand("SELECT active FROM pg_replication_slots WHERE slot_name = $1").With(Name);
            var active = await slot.ExecuteScalarAsync(ct);
            if (active is null)
                break;
            if (active is false)
            {
                await using var drop = source.DataSource.CreateCommand("SELECT pg_drop_replication_slot($1)").With(Name);
                await drop.ExecuteNonQueryAsync(ct);
                break;
            }
            if (attempt > 300)
                throw new BotStoreException($"replication slot {Name} on shard '{source.Name}' is still in use after 30 s");
            await Task.Delay(100, ct);
        }
        await ExecuteAsync(source.DataSource, $"DROP PUBLICATION IF EXISTS {SqlText.Ident(Name)}", ct);
    }

    private async Task<uint?> SubscriptionOidAsync(CancellationToken ct)
    {
        await using var cmd = target.DataSource.CreateCommand("SELECT oid FROM pg_subscription WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())").With(Name);
        return await cmd.ExecuteScalarAsync(ct) as uint?;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
