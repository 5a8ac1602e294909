using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Data;

/// <summary>
/// Bulk ingest for a login role that PostgreSQL does not let COPY into a table under row-level security (neither
/// superuser nor BYPASSRLS): the library notices and takes the temporary-table path, with the same guarantees.
/// </summary>
public sealed class BulkIngestWithoutCopyRightTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_role_that_may_not_copy_under_row_level_security_still_ingests_with_every_guarantee()
    {
        var owner = new Conversation(db.DataSource);
        var w = await owner.NewWorldAsync();
        var other = await owner.NewWorldAsync();
        await db.ExecuteAsync("""
            DO $$ BEGIN CREATE ROLE botstore_test_nocopy LOGIN PASSWORD 'nocopy' NOSUPERUSER NOBYPASSRLS;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$
            """);
        await db.ExecuteAsync("GRANT botstore_app TO botstore_test_nocopy");
        var login = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Username = "botstore_test_nocopy", Password = "nocopy" };
        await using var dataSource = (ConnectionSettings.Default with { MinConnections = 0 }).CreateDataSource(login.ConnectionString, "nocopy");
        var messages = new MessageStore(dataSource);

        var batch = Enumerable.Range(0, 20).Select(i => new NewMessage(w.Session.Id, MessageRole.User, $"m{i}") { Id = Uuid7.New() }).ToList();
        Assert.Equal(20, (await messages.BulkAppendAsync(w.TenantId, batch)).Inserted);
        Assert.Equal(0, (await messages.BulkAppendAsync(w.TenantId, batch)).Inserted);
        var foreign = await Assert.ThrowsAsync<BotStoreNotFoundException>(() => messages.BulkAppendAsync(w.TenantId,
            [new NewMessage(w.Session.Id, MessageRole.User, "ok"), new NewMessage(other.Session.Id, MessageRole.User, "foreign")]));
        Assert.Contains("messages[1].session_id", foreign.Message, StringComparison.Ordinal);
        Assert.Equal(20, (await owner.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(Enumerable.Range(0, 20), (await owner.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false)).Items.Select(m => m.MessageIndex));

        var events = new AnalyticsStore(dataSource);
        var e = new NewEvent("opened", ChannelType.Web) { Id = Uuid7.New() };
        Assert.Equal((1, 0), ((await events.IngestAsync(w.TenantId, [e])).Inserted, (await events.IngestAsync(w.TenantId, [e, e])).Inserted));
    }
}
