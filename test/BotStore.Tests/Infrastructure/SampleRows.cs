namespace BotStore.Tests.Infrastructure;

/// <summary>The ids of one tenant's bot, user and session, as made by <see cref="SampleRows.CreateConversationAsync"/>.</summary>
public sealed record SampleConversation(long TenantId, Guid BotId, Guid UserId, Guid SessionId);

/// <summary>
/// Inserts the rows most tests stand on (tenant, bot, user, session) with plain SQL, every column set (no NULLs), so
/// tests of the schema do not depend on the library's write paths.
/// </summary>
public static class SampleRows
{
    /// <summary>A new tenant (named <paramref name="tenantName"/>, else a fresh name) with one bot, one user and one open web session.</summary>
    public static async Task<SampleConversation> CreateConversationAsync(TestDatabase db, string? tenantName = null)
    {
        var tenantId = await db.ScalarAsync<long>("INSERT INTO tenants (name) VALUES ($1) RETURNING id", tenantName ?? $"acme-{Guid.NewGuid():N}"[..13]);
        var (botId, userId, sessionId) = (Uuid7.New(), Uuid7.New(), Uuid7.New());
        await db.ExecuteAsync("""
            INSERT INTO bots (tenant_id, id, llm_provider, name, config) VALUES ($1, $2, 1, 'helper', '{"temperature": 0.2}')
            """, tenantId, botId);
        await db.ExecuteAsync("""
            INSERT INTO users (tenant_id, id, external_id, display_name) VALUES ($1, $2, 'ext-1', 'Ada')
            """, tenantId, userId);
        await db.ExecuteAsync("""
            INSERT INTO user_sessions (tenant_id, created_at, last_activity_at, id, user_id, bot_id, message_count, channel, title)
            VALUES ($1, now(), now(), $2, $3, $4, 1, 0, 'Hello')
            """, tenantId, sessionId, userId, botId);
        return new SampleConversation(tenantId, botId, userId, sessionId);
    }

    /// <summary>Inserts one message whose id carries <paramref name="when"/>, with the created_at the schema requires.</summary>
    public static async Task<Guid> InsertMessageAsync(TestDatabase db, SampleConversation c, DateTimeOffset when, int messageIndex = 0)
    {
        var id = Uuid7.At(when);
        await db.ExecuteAsync("""
            INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, is_read, content, metadata)
            VALUES ($1, $2, $3, $4, $5, $6, 1, 0, false, 'hi', '{"lang": "en"}')
            """, c.TenantId, Uuid7.Timestamp(id), id, c.SessionId, c.UserId, messageIndex);
        return id;
    }
}
