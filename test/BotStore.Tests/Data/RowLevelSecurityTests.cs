using BotStore.Data;
using BotStore.Data.Internal;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Data;

/// <summary>
/// The database's own wall between tenants: a statement that forgets its tenant filter still sees one tenant, and
/// the role tenant statements run as cannot take the wall down.
/// </summary>
public sealed class RowLevelSecurityTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    // Tables with a tenant_id that are not a tenant's data: tokens are checked before any tenant is known; the
    // directory and the fence say where tenants live (migration 0024) and are read before or while entering one;
    // the journal of tenant moves (migration 0025) is the mover's own, on the directory database.
    private static readonly string[] NotTenantData = ["api_tokens", "tenant_directory", "tenant_fence", "tenant_moves"];

    [Fact]
    public async Task Every_table_with_a_tenant_id_has_forced_row_level_security()
    {
        var tables = await TenantTablesAsync();
        Assert.Contains("message_history", tables);
        Assert.Contains("kb_documents", tables);
        await using var cmd = db.DataSource.CreateCommand("""
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND c.relname = ANY($1) AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = tables });
        Assert.Null(await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_query_without_its_tenant_filter_sees_only_the_scoped_tenant_in_every_table()
    {
        var a = await SeedTenantAsync(2);
        var b = await SeedTenantAsync(3);
        var tables = await TenantTablesAsync();
        foreach (var table in tables.Append("tenants"))
        {
            var all = await db.ScalarAsync<long>($"SELECT count(*) FROM {table}");
            Assert.True(all >= (table == "tenants" ? 2 : 5), $"{table}: the owner sees both tenants' rows ({all})");
            Assert.True(await ScopedCountAsync(a, table) == (table == "tenants" ? 1 : 2), $"{table} as tenant A");
            Assert.True(await ScopedCountAsync(b, table) == (table == "tenants" ? 1 : 3), $"{table} as tenant B");
        }
    }

    [Fact]
    public async Task Writing_another_tenants_row_is_refused_and_no_tenant_means_no_rows()
    {
        var a = await SeedTenantAsync(1);
        var b = await SeedTenantAsync(1);
        await using (var batch = TenantScope.Batch(db.DataSource, a).Add("INSERT INTO users (tenant_id, id, external_id) VALUES ($1, $2, 'sneaky')", b, Uuid7.New()))
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => batch.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await Exec(conn, "SELECT set_config('role', 'botstore_app', true)");
        await using var count = new NpgsqlCommand("SELECT count(*) FROM message_history", conn);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_login_role_that_is_only_botstore_app_cannot_switch_the_policies_off()
    {
        var a = await SeedTenantAsync(2);
        await SeedTenantAsync(2);
        var probe = $"rls_probe_{Guid.NewGuid():N}"[..24];
        await db.ExecuteAsync($"CREATE ROLE {probe} LOGIN PASSWORD 'probe' NOSUPERUSER NOBYPASSRLS NOINHERIT IN ROLE botstore_app");
        try
        {
            var cs = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Username = probe, Password = "probe", Pooling = false };
            await using var dataSource = NpgsqlDataSource.Create(cs.ConnectionString);
            Assert.Equal(2L, await ScopedCountAsync(dataSource, a, "message_history"));

            string[] attempts =
            [
                "ALTER TABLE message_history DISABLE ROW LEVEL SECURITY",
                "ALTER TABLE message_history NO FORCE ROW LEVEL SECURITY",
                "DROP POLICY tenant_isolation ON message_history",
                "CREATE POLICY everything ON message_history USING (true)",
                "SET ROLE botstore_maintainer",
                $"SET ROLE {new NpgsqlConnectionStringBuilder(db.ConnectionString).Username}",
                $"ALTER ROLE {probe} BYPASSRLS",
                "SELECT count(*) FROM message_history_default",
            ];
            foreach (var sql in attempts)
            {
                await using var conn = await dataSource.OpenConnectionAsync();
                await using var tx = await conn.BeginTransactionAsync();
                await TenantScope.ApplyAsync(conn, a, default);
                var denied = await Assert.ThrowsAsync<PostgresException>(() => Exec(conn, sql));
                Assert.True(denied.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {denied.SqlState} {denied.MessageText}");
            }

            // row_security = off does not bypass a policy for a role without BYPASSRLS: the query fails instead.
            await using (var conn = await dataSource.OpenConnectionAsync())
            {
                await using var tx = await conn.BeginTransactionAsync();
                await TenantScope.ApplyAsync(conn, a, default);
                await Exec(conn, "SET LOCAL row_security = off");
                var refused = await Assert.ThrowsAsync<PostgresException>(() => Exec(conn, "SELECT count(*) FROM message_history"));
                Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
                Assert.Contains("row-level security", refused.MessageText, StringComparison.Ordinal);
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await db.ExecuteAsync($"DROP ROLE {probe}");
        }
    }

    private Task<long> ScopedCountAsync(long tenantId, string table) => ScopedCountAsync(db.DataSource, tenantId, table);

    private static async Task<long> ScopedCountAsync(NpgsqlDataSource dataSource, long tenantId, string table)
    {
        // Deliberately no tenant filter: only the policy stands between this statement and the other tenant.
        await using var batch = TenantScope.Batch(dataSource, tenantId).Add($"SELECT count(*) FROM {table}");
        await using var reader = await batch.ReadAsync(default);
        await reader.ReadAsync();
        return reader.GetInt64(0);
    }

    private async Task<string[]> TenantTablesAsync()
    {
        await using var cmd = db.DataSource.CreateCommand("""
            SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND NOT c.relname = ANY($1)
            ORDER BY 1
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = NotTenantData });
        var tables = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            tables.Add(reader.GetString(0));
        return [.. tables];
    }

    // A tenant with `rows` rows in every tenant-owned table, written as the owner (which RLS does not restrict here).
    private async Task<long> SeedTenantAsync(int rows)
    {
        var (tenant, _) = await new TenantStore(db.DataSource).CreateAsync($"rls-{Guid.NewGuid():N}"[..20]);
        await db.ExecuteAsync("""
            WITH b AS (INSERT INTO bots (tenant_id, id, llm_provider, name)
                       SELECT $1, gen_random_uuid(), 0, 'b' || g FROM generate_series(1, $2) g RETURNING id),
                 u AS (INSERT INTO users (tenant_id, id, external_id)
                       SELECT $1, gen_random_uuid(), 'u' || g FROM generate_series(1, $2) g RETURNING id)
            INSERT INTO user_sessions (tenant_id, id, user_id, bot_id, channel, created_at, last_activity_at)
            SELECT $1, gen_random_uuid(), u.id, b.id, 0, now(), now()
            FROM (SELECT id, row_number() OVER () n FROM b) b JOIN (SELECT id, row_number() OVER () n FROM u) u USING (n)
            """, tenant.Id, rows);
        await db.ExecuteAsync("""
            INSERT INTO bot_channels (tenant_id, id, bot_id, channel) SELECT tenant_id, gen_random_uuid(), id, 0 FROM bots WHERE tenant_id = $1;
            """, tenant.Id);
        foreach (var session in await IdsAsync("SELECT id FROM user_sessions WHERE tenant_id = $1", tenant.Id))
        {
            var id = Uuid7.New();
            await db.ExecuteAsync("""
                INSERT INTO message_history (tenant_id, created_at, id, session_id, user_id, message_index, role, content)
                SELECT tenant_id, $3, $2, id, user_id, 0, 1, 'hi' FROM user_sessions WHERE tenant_id = $1 AND id = $4
                """, tenant.Id, id, Uuid7.Timestamp(id), session);
            var eventId = Uuid7.New();
            await db.ExecuteAsync("INSERT INTO analytics_events (tenant_id, created_at, id, channel, name) VALUES ($1, $2, $3, 0, 'e')",
                tenant.Id, Uuid7.Timestamp(eventId), eventId);
        }
        await db.ExecuteAsync("""
            WITH t AS (INSERT INTO auto_tasks (tenant_id, id, bot_id, title)
                       SELECT tenant_id, gen_random_uuid(), id, 'task' FROM bots WHERE tenant_id = $1 RETURNING tenant_id, id)
            INSERT INTO task_approvals (tenant_id, id, task_id, expires_at, step)
            SELECT tenant_id, gen_random_uuid(), id, now() + interval '1 day', 'step' FROM t
            """, tenant.Id);
        await db.ExecuteAsync("""
            WITH m AS (INSERT INTO bot_memories (tenant_id, id, bot_id, memory_type, key, value)
                       SELECT tenant_id, gen_random_uuid(), id, 0, 'k', '{}' FROM bots WHERE tenant_id = $1)
            INSERT INTO kb_documents (tenant_id, id, bot_id, path) SELECT tenant_id, gen_random_uuid(), id, '/doc' FROM bots WHERE tenant_id = $1
            """, tenant.Id);
        return tenant.Id;
    }

    private async Task<List<Guid>> IdsAsync(string sql, long tenantId)
    {
        await using var cmd = db.DataSource.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = tenantId });
        var ids = new List<Guid>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            ids.Add(reader.GetGuid(0));
        return ids;
    }

    private static async Task Exec(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
