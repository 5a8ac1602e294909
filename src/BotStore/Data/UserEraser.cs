using BotStore.Data.Internal;
using BotStore.Sharding;
using Npgsql;

namespace BotStore.Data;

/// <summary>
/// Erases one end user of a tenant (the right to erasure): the tasks and approvals of the user's sessions, the bot
/// memories about the user, the user's analytics events, the messages of the user's sessions in every partition
/// (their unread marks with them), the sessions, and the user last. Batches of a bounded number of rows, each its
/// own transaction (the loop <see cref="TenantEraser"/> uses); stateless, so a stopped run is finished by running
/// it again. Every statement is bounded by the tenant, so no other tenant's rows are touched. Runs as the owner.
/// </summary>
public sealed class UserEraser(ShardRouter shards)
{
    /// <summary>An eraser over one database (one shard).</summary>
    public UserEraser(NpgsqlDataSource dataSource) : this(ShardRouter.Single(dataSource))
    {
    }

    /// <summary>The tables in the order they are emptied of the user's rows (children before parents).</summary>
    public static IReadOnlyList<string> Tables { get; } =
        ["task_approvals", "auto_tasks", "bot_memories", "analytics_events", "message_history", "user_sessions", "users"];

    // Rows are picked through the tenant-leading keys and indexes ($1 tenant, $2 user, $3 batch size) and deleted by
    // key: message_history and analytics_events are partitioned, where a ctid names no single row.
    private static readonly Dictionary<string, string> Sql = new()
    {
        ["task_approvals"] = """
            DELETE FROM task_approvals WHERE tenant_id = $1 AND id = ANY (ARRAY(
                SELECT a.id FROM user_sessions s JOIN auto_tasks t ON t.tenant_id = $1 AND t.session_id = s.id
                JOIN task_approvals a ON a.tenant_id = $1 AND a.task_id = t.id
                WHERE s.tenant_id = $1 AND s.user_id = $2 LIMIT $3))
            """,
        ["auto_tasks"] = """
            DELETE FROM auto_tasks WHERE tenant_id = $1 AND id = ANY (ARRAY(
                SELECT t.id FROM user_sessions s JOIN auto_tasks t ON t.tenant_id = $1 AND t.session_id = s.id
                WHERE s.tenant_id = $1 AND s.user_id = $2 LIMIT $3))
            """,
        ["bot_memories"] = """
            DELETE FROM bot_memories WHERE tenant_id = $1 AND id = ANY (ARRAY(
                SELECT id FROM bot_memories WHERE tenant_id = $1 AND user_id = $2 LIMIT $3))
            """,
        ["analytics_events"] = """
            DELETE FROM analytics_events e USING (
                SELECT id, created_at FROM analytics_events WHERE tenant_id = $1 AND user_id = $2 LIMIT $3) b
            WHERE e.tenant_id = $1 AND e.id = b.id AND e.created_at = b.created_at
            """,
        ["message_history"] = """
            DELETE FROM message_history m USING (
                SELECT m.id, m.created_at FROM user_sessions s
                JOIN message_history m ON m.tenant_id = $1 AND m.session_id = s.id AND m.created_at >= s.created_at - interval '1 hour'
                WHERE s.tenant_id = $1 AND s.user_id = $2 LIMIT $3) b
            WHERE m.tenant_id = $1 AND m.id = b.id AND m.created_at = b.created_at
            """,
        ["user_sessions"] = """
            DELETE FROM user_sessions WHERE tenant_id = $1 AND id = ANY (ARRAY(
                SELECT id FROM user_sessions WHERE tenant_id = $1 AND user_id = $2 LIMIT $3))
            """,
        ["users"] = "DELETE FROM users WHERE tenant_id = $1 AND id = $2 AND $3 > 0",
    };

    /// <summary>
    /// Erases the user and returns the rows deleted per table in this run (in <see cref="Tables"/> order).
    /// Cancelling keeps the batches already committed.
    /// </summary>
    /// <exception cref="BotStoreNotFoundException">The tenant has no such user (or it was erased already).</exception>
    public Task<IReadOnlyList<(string Table, long Rows)>> EraseAsync(long tenantId, Guid userId, int batchSize = 10_000, CancellationToken ct = default) =>
        shards.RunAsync<IReadOnlyList<(string, long)>>(tenantId, async dataSource =>
    {
        if (batchSize < 1)
            throw new BotStoreValidationException($"batch size must be positive (got {batchSize})");
        await using (var exists = dataSource.CreateCommand("SELECT EXISTS (SELECT FROM users WHERE tenant_id = $1 AND id = $2)"))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            exists.Parameters.Add(new NpgsqlParameter { Value = userId });
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!)
                throw new BotStoreNotFoundException($"user {userId} not found");
        }
        var counts = new List<(string, long)>();
        foreach (var table in Tables)
            counts.Add((table, await BatchedDelete.UntilDoneAsync(dataSource, Sql[table], batchSize, null, ct, tenantId, userId)));
        return counts;
    });
}
