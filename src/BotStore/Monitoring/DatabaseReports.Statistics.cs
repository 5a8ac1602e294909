using BotStore.Internal;
using Npgsql;

namespace BotStore.Monitoring;

public sealed partial class DatabaseReports
{
    /// <summary>
    /// The server and this database at a glance: version, size, connections against the limit, transaction and
    /// block counters (cumulative: sample twice for a rate), and replication lag. One cheap query, meant to be
    /// sampled every few seconds.
    /// </summary>
    public Task<DatabaseStatistics> StatisticsAsync(CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT current_setting('server_version'), current_database(), pg_database_size(current_database()),
                   (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int,
                   d.numbackends, current_setting('max_connections')::int,
                   d.xact_commit, d.xact_rollback, d.blks_hit, d.blks_read, pg_postmaster_start_time(), pg_is_in_recovery(),
                   CASE WHEN pg_is_in_recovery() THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
                        ELSE (SELECT max(extract(epoch FROM replay_lag))::float8 FROM pg_stat_replication) END,
                   now()
            FROM pg_stat_database d
            WHERE d.datname = current_database()
            """, conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new DatabaseStatistics(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt32(3), reader.GetInt32(4),
            reader.GetInt32(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9),
            reader.GetFieldValue<DateTimeOffset>(10), reader.GetBoolean(11), NullableDouble(reader, 12), reader.GetFieldValue<DateTimeOffset>(13));
    });
}

/// <summary>The server and this database now.</summary>
/// <param name="ServerVersion">PostgreSQL's server_version.</param>
/// <param name="Database">This database.</param>
/// <param name="DatabaseBytes">Its size on disk.</param>
/// <param name="ServerConnections">Client connections to the whole server (what max_connections limits).</param>
/// <param name="DatabaseConnections">Backends connected to this database.</param>
/// <param name="MaxConnections">max_connections.</param>
/// <param name="CommittedTransactions">Transactions committed in this database since statistics were reset (cumulative).</param>
/// <param name="RolledBackTransactions">Transactions rolled back (cumulative).</param>
/// <param name="BlocksHit">Blocks found in shared buffers (cumulative).</param>
/// <param name="BlocksRead">Blocks read from disk or the OS cache (cumulative).</param>
/// <param name="StartedAt">When the server started.</param>
/// <param name="IsReplica">The server is a standby.</param>
/// <param name="ReplicationLagSeconds">On a standby, the age of the last replayed transaction; on a primary, the largest replay lag of its standbys; null without replication.</param>
/// <param name="SampledAt">The server's clock when this was read.</param>
public sealed record DatabaseStatistics(string ServerVersion, string Database, long DatabaseBytes, int ServerConnections, int DatabaseConnections,
    int MaxConnections, long CommittedTransactions, long RolledBackTransactions, long BlocksHit, long BlocksRead, DateTimeOffset StartedAt,
    bool IsReplica, double? ReplicationLagSeconds, DateTimeOffset SampledAt)
{
    /// <summary>Share of block reads served from shared buffers (null before any read).</summary>
    public double? CacheHitRatio => BlocksHit + BlocksRead > 0 ? (double)BlocksHit / (BlocksHit + BlocksRead) : null;
}
