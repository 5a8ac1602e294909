using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Tasks;

/// <summary>
/// Plain-SQL rows for what the task tests stand on (tenants, bots, users, sessions), inserted as the owner; the
/// stores under test are on this branch, the conversation stores are not.
/// </summary>
internal static class Seed
{
    public static Task<long> TenantAsync(TestDatabase db) =>
        db.ScalarAsync<long>("INSERT INTO tenants (name) VALUES ($1) RETURNING id", $"t-{Guid.NewGuid():N}"[..12]);

    public static async Task<Guid> BotAsync(TestDatabase db, long tenantId)
    {
        var id = Uuid7.New();
        await db.ExecuteAsync("INSERT INTO bots (tenant_id, id, llm_provider, name) VALUES ($1, $2, 0, 'bot')", tenantId, id);
        return id;
    }

    public static async Task<Guid> UserAsync(TestDatabase db, long tenantId)
    {
        var id = Uuid7.New();
        await db.ExecuteAsync("INSERT INTO users (tenant_id, id, external_id) VALUES ($1, $2, $3)", tenantId, id, id.ToString());
        return id;
    }

    public static async Task<Guid> SessionAsync(TestDatabase db, long tenantId, Guid userId, Guid botId)
    {
        var id = Uuid7.New();
        await db.ExecuteAsync("""
            INSERT INTO user_sessions (tenant_id, id, user_id, bot_id, created_at, last_activity_at, channel)
            VALUES ($1, $2, $3, $4, now(), now(), 0)
            """, tenantId, id, userId, botId);
        return id;
    }

    /// <summary>Puts a task straight into a status, as the owner, bypassing the state machine (test setup only).</summary>
    public static Task ForceStatusAsync(TestDatabase db, Guid taskId, AutoTaskStatus status) =>
        db.ExecuteAsync("UPDATE auto_tasks SET status = $1 WHERE id = $2", (short)status, taskId);
}
