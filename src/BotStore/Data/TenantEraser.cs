using BotStore.Data.Internal;
using BotStore.Internal;
using Npgsql;
using NpgsqlTypes;

namespace BotStore.Data;

/// <summary>How far an erasure is: rows deleted so far from <see cref="Table"/> in this run, and whether the table is done.</summary>
/// <param name="Table">The table being emptied of the tenant's rows.</param>
/// <param name="RowsDeleted">Rows of the tenant deleted from it so far in this run.</param>
/// <param name="Done">Whether the table holds none of the tenant's rows any more.</param>
/// <param name="Partition">The partition being worked on, for partitioned tables.</param>
public sealed record ErasureProgress(string Table, long RowsDeleted, bool Done, string? Partition = null);

/// <summary>
/// Deletes everything a tenant owns (GDPR erasure), in batches of a bounded number of rows, each its own
/// transaction, children before parents, the tenant row last. It keeps no state: a run that is stopped leaves
/// only whole batches done, and the next run simply finds what remains. It first deactivates the tenant, so its
/// tokens stop working (within the API's token cache time). Runs as the owner (a member of botstore_maintainer).
/// </summary>
public sealed class TenantEraser(NpgsqlDataSource dataSource)
{
    /// <summary>The tables in the order they are emptied (foreign keys point only backwards in this list).</summary>
    public static IReadOnlyList<string> Tables { get; } =
    [
        "task_approvals", "auto_tasks", "bot_memories", "kb_documents", "analytics_events", "message_history",
        "user_sessions", "bot_channels", "users", "bots", "api_tokens", "tenants",
    ];

    // A row is found through the table's tenant-leading primary key (or unique index), then deleted by its ctid.
    private const string ByTenantSql = """
        DELETE FROM {0} WHERE tenant_id = $1 AND ctid = ANY (ARRAY(SELECT ctid FROM {0} WHERE tenant_id = $1 LIMIT $2))
        """;

    // message_history has no tenant index: a partition's rows are found through the tenant's sessions (its primary
    // key) and idx_messages_session, walking the sessions in id order so a batch never rescans emptied ones.
    private const string MessagesSql = """
        WITH batch AS MATERIALIZED (
            SELECT m.ctid AS tid, s.id AS session_id
            FROM user_sessions s JOIN {0} m ON m.session_id = s.id
            WHERE s.tenant_id = $1 AND m.tenant_id = $1 AND s.id >= $2
            ORDER BY s.id LIMIT $3),
        gone AS (DELETE FROM {0} WHERE tenant_id = $1 AND ctid = ANY (ARRAY(SELECT tid FROM batch)) RETURNING 1)
        SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM gone), (SELECT session_id FROM batch ORDER BY session_id DESC LIMIT 1)
        """;

    // analytics_events has no index that leads to a tenant: a partition is read once, a window of blocks at a time.
    private const string EventsSql = "DELETE FROM {0} WHERE ctid >= $2 AND ($3::tid IS NULL OR ctid < $3) AND tenant_id = $1";

    private const int MaxPasses = 3;

    /// <summary>
    /// Erases the tenant and returns how many rows were deleted in this run. A write that slips in while it runs
    /// (through a cached token) is caught by another pass. Cancelling keeps the batches already committed.
    /// </summary>
    public Task<long> EraseAsync(long tenantId, int batchSize = 10_000, IProgress<ErasureProgress>? progress = null, CancellationToken ct = default) =>
        PostgresErrors.Guard(async () =>
    {
        if (batchSize < 1)
            throw new BotStoreValidationException($"batch size must be positive (got {batchSize})");
        await using (var deactivate = dataSource.CreateCommand("UPDATE tenants SET is_active = false WHERE id = $1"))
        {
            deactivate.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            if (await deactivate.ExecuteNonQueryAsync(ct) == 0)
                throw new BotStoreNotFoundException($"tenant {tenantId} not found");
        }
        return await EraseRowsAsync(tenantId, batchSize, progress, ct);
    });

    /// <summary>
    /// Deletes the tenant's rows from every table without deactivating it first, and whether or not its tenant row
    /// exists: a tenant move removes the copy it leaves behind (or a partial copy it rolls back) this way.
    /// </summary>
    internal async Task<long> EraseRowsAsync(long tenantId, int batchSize, IProgress<ErasureProgress>? progress, CancellationToken ct)
    {
        long total = 0;
        for (var pass = 1; ; pass++)
        {
            try
            {
                foreach (var table in Tables)
                    total += await EraseTableAsync(table, tenantId, batchSize, progress, ct);
                return total;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation && pass < MaxPasses)
            {
                // A row was added behind the erasure's back; the next pass deletes it first.
            }
        }
    }

    /// <summary>
    /// The tenant's rows per table. Counting message_history and analytics_events reads much of them (they have
    /// no tenant index), so this costs about as much as a pass of the erasure itself.
    /// </summary>
    public Task<IReadOnlyList<(string Table, long Rows)>> RemainingAsync(long tenantId, CancellationToken ct = default) =>
        PostgresErrors.Guard<IReadOnlyList<(string, long)>>(async () =>
    {
        var result = new List<(string, long)>();
        foreach (var table in Tables)
        {
            var sql = table switch
            {
                "tenants" => "SELECT count(*) FROM tenants WHERE id = $1",
                "message_history" => "SELECT count(*) FROM user_sessions s JOIN message_history m ON m.session_id = s.id AND m.tenant_id = s.tenant_id WHERE s.tenant_id = $1",
                _ => $"SELECT count(*) FROM {table} WHERE tenant_id = $1",
            };
            await using var cmd = dataSource.CreateCommand(sql);
            cmd.CommandTimeout = 0;
            cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            result.Add((table, (long)(await cmd.ExecuteScalarAsync(ct))!));
        }
        return result;
    });

    private async Task<long> EraseTableAsync(string table, long tenantId, int batchSize, IProgress<ErasureProgress>? progress, CancellationToken ct)
    {
        long deleted = 0;
        switch (table)
        {
            case "message_history" or "analytics_events":
                foreach (var partition in await PartitionsAsync(table, ct))
                {
                    deleted += table == "message_history"
                        ? await EraseMessagesAsync(partition, tenantId, batchSize, n => progress?.Report(new(table, deleted + n, false, partition)), ct)
                        : await EraseEventsAsync(partition, tenantId, batchSize, n => progress?.Report(new(table, deleted + n, false, partition)), ct);
                }
                break;
            case "api_tokens" or "tenants":
                deleted = await ExecuteAsync(table == "tenants" ? "DELETE FROM tenants WHERE id = $1" : "DELETE FROM api_tokens WHERE tenant_id = $1", ct, tenantId);
                break;
            default:
                deleted = await BatchedDelete.UntilDoneAsync(dataSource, string.Format(System.Globalization.CultureInfo.InvariantCulture, ByTenantSql, table),
                    batchSize, n => progress?.Report(new(table, n, false)), ct, tenantId);
                break;
        }
        progress?.Report(new(table, deleted, true));
        return deleted;
    }

    private async Task<long> EraseMessagesAsync(string partition, long tenantId, int batchSize, Action<long> report, CancellationToken ct)
    {
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, MessagesSql, Quote(partition));
        long deleted = 0;
        var fromSession = Guid.Empty;
        while (true)
        {
            await using var cmd = dataSource.CreateCommand(sql);
            cmd.CommandTimeout = 0;
            cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            cmd.Parameters.Add(new NpgsqlParameter { Value = fromSession });
            cmd.Parameters.Add(new NpgsqlParameter { Value = batchSize });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var found = reader.GetInt64(0);
            deleted += reader.GetInt64(1);
            report(deleted);
            if (found < batchSize)
                return deleted;
            fromSession = reader.GetGuid(2);
        }
    }

    private async Task<long> EraseEventsAsync(string partition, long tenantId, int batchSize, Action<long> report, CancellationToken ct)
    {
        await using var size = dataSource.CreateCommand("""
            SELECT pg_relation_size(c.oid) / current_setting('block_size')::bigint, greatest(c.reltuples, 0) / greatest(c.relpages, 1)
            FROM pg_class c WHERE c.oid = $1::regclass
            """);
        size.Parameters.Add(new NpgsqlParameter { Value = Quote(partition) });
        long blocks;
        double rowsPerBlock;
        await using (var reader = await size.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            blocks = reader.GetInt64(0);
            rowsPerBlock = reader.GetDouble(1);
        }
        // A window holds about batchSize rows of all tenants, so no transaction deletes much more than that.
        var window = (uint)Math.Clamp(batchSize / Math.Max(rowsPerBlock, 1), 1, 1 << 20);
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, EventsSql, Quote(partition));
        long deleted = 0;
        for (uint start = 0; ; start += window)
        {
            // The last window is open-ended, for rows added after the size was read.
            var last = start + window >= blocks;
            deleted += await ExecuteAsync(sql, ct, tenantId, new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Tid, Value = new NpgsqlTid(start, 0) },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Tid, Value = last ? DBNull.Value : new NpgsqlTid(start + window, 0) });
            report(deleted);
            if (last)
                return deleted;
        }
    }

    private async Task<IReadOnlyList<string>> PartitionsAsync(string parent, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1::regclass ORDER BY c.relname
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = parent });
        var result = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            result.Add(reader.GetString(0));
        return result;
    }

    private async Task<long> ExecuteAsync(string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        foreach (var arg in args)
            cmd.Parameters.Add(arg as NpgsqlParameter ?? new NpgsqlParameter { Value = arg });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
