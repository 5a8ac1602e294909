using BotStore.Data;
using BotStore.Data.Internal;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Data;

/// <summary>
/// Bulk ingest takes one of three paths by what its login role may do (the other tests' superuser takes the third):
/// a role PostgreSQL does not let COPY into a table under row-level security goes through a temporary table; a
/// BYPASSRLS role copies straight in with the foreign-key check of each row; a role that may also set
/// session_replication_role copies without them, its session locks standing for them. Every path keeps every
/// guarantee, and none leaves its pooled connection with triggers off.
/// </summary>
public sealed class BulkIngestLoginRoleTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Theory]
    [InlineData("NOBYPASSRLS", false, false, false)]
    [InlineData("BYPASSRLS", false, true, false)]
    [InlineData("BYPASSRLS", true, true, true)]
    public async Task Every_login_role_ingests_with_every_guarantee(string bypass, bool maySetReplicationRole, bool copies, bool skipsKeyChecks)
    {
        var owner = new Conversation(db.DataSource);
        var w = await owner.NewWorldAsync();
        var other = await owner.NewWorldAsync();
        var role = $"botstore_test_ingest_{bypass.ToLowerInvariant()}{(maySetReplicationRole ? "_replica" : "")}";
        await db.ExecuteAsync($"""
            DO $$ BEGIN CREATE ROLE {role} LOGIN PASSWORD 'ingest' NOSUPERUSER {bypass};
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$
            """);
        await db.ExecuteAsync($"GRANT botstore_app TO {role}");
        if (maySetReplicationRole)
            await db.ExecuteAsync($"GRANT SET ON PARAMETER session_replication_role TO {role}");
        var login = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Username = role, Password = "ingest" };
        // One connection, so the check at the end sees the very connection every batch ran on.
        await using var dataSource = (ConnectionSettings.Default with { MinConnections = 0, MaxConnections = 1 }).CreateDataSource(login.ConnectionString, role);
        Assert.Equal(new DirectCopy.Rights(copies, skipsKeyChecks), await DirectCopy.RightsAsync(dataSource));
        var messages = new MessageStore(dataSource);

        var batch = Enumerable.Range(0, 20).Select(i => new NewMessage(w.Session.Id, MessageRole.User, $"m{i}") { Id = Uuid7.New() }).ToList();
        Assert.Equal(20, (await messages.BulkAppendAsync(w.TenantId, batch)).Inserted);
        Assert.Equal(0, (await messages.BulkAppendAsync(w.TenantId, batch)).Inserted);
        var foreign = await Assert.ThrowsAsync<BotStoreNotFoundException>(() => messages.BulkAppendAsync(w.TenantId,
            [new NewMessage(w.Session.Id, MessageRole.User, "ok"), new NewMessage(other.Session.Id, MessageRole.User, "foreign")]));
        Assert.Contains("messages[1].session_id", foreign.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<BotStoreNotFoundException>(() => messages.BulkAppendAsync(w.TenantId,
            [new NewMessage(Uuid7.New(), MessageRole.User, "nowhere")]));
        Assert.Contains("messages[0].session_id", missing.Message, StringComparison.Ordinal);
        Assert.Equal(20, (await owner.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(Enumerable.Range(0, 20), (await owner.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false)).Items.Select(m => m.MessageIndex));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE session_id = $1", other.Session.Id));

        var events = new AnalyticsStore(dataSource);
        var e = new NewEvent("opened", ChannelType.Web) { Id = Uuid7.New() };
        Assert.Equal((1, 0), ((await events.IngestAsync(w.TenantId, [e])).Inserted, (await events.IngestAsync(w.TenantId, [e, e])).Inserted));

        await using var cmd = dataSource.CreateCommand("SELECT current_setting('session_replication_role')");
        Assert.Equal("origin", await cmd.ExecuteScalarAsync());
    }
}
