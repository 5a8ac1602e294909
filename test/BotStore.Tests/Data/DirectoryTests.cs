using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Data;

/// <summary>Bots, their channels, users and sessions.</summary>
public sealed class DirectoryTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private readonly Conversation _c = new(db.DataSource);

    [Fact]
    public async Task Bots_are_listed_in_pages_and_a_deactivated_one_leaves_the_active_list()
    {
        var w = await _c.NewWorldAsync();
        var more = new List<Bot> { w.Bot };
        for (var i = 0; i < 4; i++)
            more.Add(await _c.Bots.CreateAsync(w.TenantId, $"bot {i}", LlmProvider.Ollama));
        var gone = await _c.Bots.DeactivateAsync(w.TenantId, more[2].Id);
        Assert.False(gone.IsActive);
        Assert.False((await _c.Bots.DeactivateAsync(w.TenantId, more[2].Id)).IsActive);
        Assert.Equal(LlmProvider.Ollama, (await _c.Bots.GetAsync(w.TenantId, more[1].Id)).LlmProvider);

        var first = await _c.Bots.ListAsync(w.TenantId, limit: 2);
        var rest = await _c.Bots.ListAsync(w.TenantId, after: first.Next, limit: 2);
        // Ids are UUIDv7: creation order to the millisecond, PostgreSQL's byte order within one.
        Assert.Equal(more.Where(b => b.Id != gone.Id).Select(b => b.Id.ToString()).Order(StringComparer.Ordinal), first.Items.Concat(rest.Items).Select(b => b.Id.ToString()));
        Assert.Null(rest.Next);
        Assert.Equal(5, (await _c.Bots.ListAsync(w.TenantId, includeInactive: true)).Items.Count);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM bots WHERE id = $1 AND is_active", gone.Id));
        await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Bots.CreateAsync(w.TenantId, " ", LlmProvider.Groq));
        await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Bots.ListAsync(w.TenantId, after: "garbage"));
    }

    [Fact]
    public async Task A_bot_has_at_most_one_channel_of_each_type()
    {
        var w = await _c.NewWorldAsync();
        Assert.Empty(await _c.Bots.ListChannelsAsync(w.TenantId, w.Bot.Id));
        await _c.Bots.AddChannelAsync(w.TenantId, w.Bot.Id, ChannelType.Whatsapp);
        await _c.Bots.AddChannelAsync(w.TenantId, w.Bot.Id, ChannelType.Web);
        await Assert.ThrowsAsync<BotStoreConflictException>(() => _c.Bots.AddChannelAsync(w.TenantId, w.Bot.Id, ChannelType.Web));
        Assert.Equal([ChannelType.Web, ChannelType.Whatsapp], (await _c.Bots.ListChannelsAsync(w.TenantId, w.Bot.Id)).Select(c => c.Channel));
        var other = await _c.NewWorldAsync();
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Bots.AddChannelAsync(other.TenantId, w.Bot.Id, ChannelType.Sms));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Bots.ListChannelsAsync(other.TenantId, w.Bot.Id));
    }

    [Fact]
    public async Task Users_have_unique_external_ids_per_tenant()
    {
        var w = await _c.NewWorldAsync();
        var other = await _c.NewWorldAsync();
        await Assert.ThrowsAsync<BotStoreConflictException>(() => _c.Users.CreateAsync(w.TenantId, w.User.ExternalId));
        var twin = await _c.Users.CreateAsync(other.TenantId, w.User.ExternalId, "Twin");
        Assert.Equal("Twin", (await _c.Users.GetAsync(other.TenantId, twin.Id)).DisplayName);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Users.GetAsync(w.TenantId, twin.Id));
        var second = await _c.Users.CreateAsync(w.TenantId, "second");
        var page = await _c.Users.ListAsync(w.TenantId, limit: 1);
        Assert.Equal(new[] { w.User.Id, second.Id }.Select(id => id.ToString()).Order(StringComparer.Ordinal),
            page.Items.Concat((await _c.Users.ListAsync(w.TenantId, page.Next, 1)).Items).Select(u => u.Id.ToString()));
    }

    [Fact]
    public async Task Sessions_need_a_user_and_an_active_bot_of_the_tenant()
    {
        var w = await _c.NewWorldAsync();
        var other = await _c.NewWorldAsync();
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Sessions.CreateAsync(w.TenantId, other.User.Id, w.Bot.Id, ChannelType.Web));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Sessions.CreateAsync(w.TenantId, w.User.Id, other.Bot.Id, ChannelType.Web));
        await _c.Bots.DeactivateAsync(w.TenantId, w.Bot.Id);
        await Assert.ThrowsAsync<BotStoreConflictException>(() => _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Web));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Sessions.GetAsync(other.TenantId, w.Session.Id));
        var s = await _c.Sessions.GetAsync(w.TenantId, w.Session.Id);
        Assert.Equal((w.User.Id, w.Bot.Id, ChannelType.Web, "hello", 0), (s.UserId, s.BotId, s.Channel, s.Title, s.MessageCount));
    }

    [Fact]
    public async Task A_users_sessions_come_newest_first_in_pages_and_the_tenants_too()
    {
        var w = await _c.NewWorldAsync(DateTimeOffset.UtcNow.AddDays(-3));
        var sessions = new List<Session> { w.Session };
        for (var i = 2; i >= 0; i--)
            sessions.Add(await _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Email, $"s{i}", DateTimeOffset.UtcNow.AddDays(-i)));
        var newestFirst = sessions.Select(s => s.Id).Reverse().ToList();

        var page = await _c.Sessions.ListByUserAsync(w.TenantId, w.User.Id, limit: 3);
        var rest = await _c.Sessions.ListByUserAsync(w.TenantId, w.User.Id, page.Next, 3);
        Assert.Equal(newestFirst, page.Items.Concat(rest.Items).Select(s => s.Id));
        Assert.Null(rest.Next);
        var tenant = await _c.Sessions.ListByTenantAsync(w.TenantId, limit: 2);
        Assert.Equal(newestFirst, tenant.Items.Concat((await _c.Sessions.ListByTenantAsync(w.TenantId, tenant.Next)).Items).Select(s => s.Id));

        var lonely = await _c.Users.CreateAsync(w.TenantId, "lonely");
        Assert.Empty((await _c.Sessions.ListByUserAsync(w.TenantId, lonely.Id)).Items);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Sessions.ListByUserAsync(w.TenantId, Uuid7.New()));
        var other = await _c.NewWorldAsync();
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Sessions.ListByUserAsync(other.TenantId, w.User.Id));
    }

    [Fact]
    public async Task Sessions_with_their_last_messages_take_one_statement_however_many_sessions()
    {
        await db.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        // Without the pool's reset between uses, every statement that reaches the server is the store's own.
        await using var quiet = ConnectionSettings.Default.CreateDataSource(db.ConnectionString + ";No Reset On Close=true", "botstore-statement-count");
        var sessions = new SessionStore(quiet);
        foreach (var count in new[] { 3, 30 })
        {
            var w = await _c.NewWorldAsync();
            var ids = new List<Guid> { w.Session.Id };
            for (var i = 1; i < count; i++)
                ids.Add((await _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Web, $"s{i}")).Id);
            await _c.Messages.BulkAppendAsync(w.TenantId, ids.SelectMany(id => Enumerable.Range(0, 5).Select(k => new NewMessage(id, MessageRole.User, $"{id}:{k}"))).ToList());
            var empty = await _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Web, "no messages yet");
            await sessions.ListByUserWithMessagesAsync(w.TenantId, w.User.Id, 2); // warms the connection up

            var before = await StatementCallsAsync(quiet);
            var page = await sessions.ListByUserWithMessagesAsync(w.TenantId, w.User.Id, 3, limit: 200);
            var ran = Delta(before, await StatementCallsAsync(quiet));

            Assert.Equal(count + 1, page.Items.Count);
            Assert.Equal(empty.Id, page.Items[0].Session.Id);
            Assert.Empty(page.Items[0].LastMessages);
            Assert.All(page.Items.Skip(1), d => Assert.Equal(
                [$"{d.Session.Id}:4", $"{d.Session.Id}:3", $"{d.Session.Id}:2"], d.LastMessages.Select(m => m.Content)));
            Assert.True(ran.Values.Sum() == 2, string.Join("\n", ran.Select(r => $"{r.Value}x {r.Key}")));
            Assert.Contains(ran.Keys, q => q.Contains("set_config('role'", StringComparison.Ordinal));
            Assert.Contains(ran.Keys, q => q.Contains("LEFT JOIN LATERAL", StringComparison.Ordinal) && q.Contains("message_history", StringComparison.Ordinal));
        }
    }

    // Executions per statement text in this database, from pg_stat_statements (top-level statements only).
    private static async Task<Dictionary<string, long>> StatementCallsAsync(Npgsql.NpgsqlDataSource dataSource)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT query, calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_statements%'
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        var calls = new Dictionary<string, long>();
        while (await reader.ReadAsync())
            calls[reader.GetString(0)] = calls.GetValueOrDefault(reader.GetString(0)) + reader.GetInt64(1);
        return calls;
    }

    private static Dictionary<string, long> Delta(Dictionary<string, long> before, Dictionary<string, long> after) =>
        after.Where(a => a.Value != before.GetValueOrDefault(a.Key)).ToDictionary(a => a.Key, a => a.Value - before.GetValueOrDefault(a.Key));
}
