using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Foundation;

/// <summary>Every index of the seed's "Indexing Strategies" exists as PostgreSQL itself prints it back.</summary>
public sealed class IndexTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Theory]
    [InlineData("message_history", "idx_messages_session",
        "CREATE INDEX idx_messages_session ON ONLY public.message_history USING btree (session_id, message_index)")]
    [InlineData("auto_tasks", "idx_tasks_status",
        "CREATE INDEX idx_tasks_status ON public.auto_tasks USING btree (status, priority) WHERE (status < 5)")]
    [InlineData("user_sessions", "idx_sessions_tenant",
        "CREATE INDEX idx_sessions_tenant ON public.user_sessions USING btree (tenant_id, created_at DESC)")]
    [InlineData("bots", "idx_bots_active",
        "CREATE INDEX idx_bots_active ON public.bots USING btree (tenant_id, is_active) WHERE (is_active = true)")]
    [InlineData("task_approvals", "idx_approvals_pending",
        "CREATE INDEX idx_approvals_pending ON public.task_approvals USING btree (task_id, expires_at) WHERE (status = 0)")]
    [InlineData("message_history", "idx_messages_unread",
        "CREATE INDEX idx_messages_unread ON ONLY public.message_history USING btree (user_id, created_at) WHERE (is_read = false)")]
    [InlineData("message_history", "idx_messages_created_brin",
        "CREATE INDEX idx_messages_created_brin ON ONLY public.message_history USING brin (created_at)")]
    [InlineData("analytics_events", "idx_analytics_date_brin",
        "CREATE INDEX idx_analytics_date_brin ON ONLY public.analytics_events USING brin (created_at)")]
    // The seed INCLUDEs (title, message_count, last_activity_at): id and tenant_id are added (0001_schema_v1.sql), the
    // two counters taken out so that their updates can be HOT (0029_hot_session_counters.sql).
    [InlineData("user_sessions", "idx_sessions_covering",
        "CREATE INDEX idx_sessions_covering ON public.user_sessions USING btree (user_id, created_at DESC) INCLUDE (title, id, tenant_id)")]
    public async Task The_seed_index_exists_as_designed(string table, string index, string definition)
    {
        var found = await db.ScalarAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 AND indexname = $2", table, index);
        Assert.Equal(definition, found);
    }

    [Fact]
    public async Task The_seeds_idx_sessions_user_is_dropped_for_the_covering_index_that_starts_with_its_keys()
    {
        // Migration 0028: idx_sessions_covering (above) serves whatever idx_sessions_user could, and every session
        // update paid for both.
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_sessions_user'"));
    }

    [Theory]
    [InlineData("message_history", "idx_messages_session")]
    [InlineData("message_history", "idx_messages_unread")]
    [InlineData("message_history", "idx_messages_created_brin")]
    [InlineData("analytics_events", "idx_analytics_date_brin")]
    public async Task A_partitioned_tables_index_is_built_and_valid_on_every_partition(string table, string index)
    {
        // "ON ONLY" above is the parent's catalogue entry; the index is usable only when every partition has its own.
        var missing = await db.ScalarAsync<long>("""
            SELECT count(*) FROM pg_inherits p
            WHERE p.inhparent = $1::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_inherits ii JOIN pg_index x ON x.indexrelid = ii.inhrelid
                              WHERE ii.inhparent = $2::regclass AND x.indrelid = p.inhrelid AND x.indisvalid)
            """, table, index);
        Assert.Equal(0, missing);
        Assert.True(await db.ScalarAsync<bool>("SELECT indisvalid FROM pg_index WHERE indexrelid = $1::regclass", index));
    }
}
