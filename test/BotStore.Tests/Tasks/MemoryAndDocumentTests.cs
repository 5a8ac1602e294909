using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Tasks;

public sealed class MemoryAndDocumentTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private MemoryStore Memories => new(db.DataSource);
    private DocumentStore Documents => new(db.DataSource);

    [Fact]
    public async Task Upsert_creates_then_replaces_and_user_keys_are_apart_from_bot_level_keys()
    {
        var (tenant, bot, user) = await SetupAsync();
        var botLevel = new MemoryKey(bot, MemoryType.Long, null, "tone");
        var userLevel = botLevel with { UserId = user };

        var (first, created) = await Memories.UpsertAsync(tenant, botLevel, Json("""{"style":"formal"}"""));
        Assert.True(created);
        var (second, createdAgain) = await Memories.UpsertAsync(tenant, botLevel, Json("\"casual\""));
        Assert.False(createdAgain);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.CreatedAt, second.CreatedAt);
        Assert.True(second.UpdatedAt > first.UpdatedAt);
        var (forUser, userCreated) = await Memories.UpsertAsync(tenant, userLevel, Json("[1,2]"));
        Assert.True(userCreated);
        Assert.NotEqual(first.Id, forUser.Id);

        Assert.True(JsonElement.DeepEquals(Json("\"casual\""), (await Memories.GetAsync(tenant, botLevel)).Value));
        Assert.True(JsonElement.DeepEquals(Json("[1,2]"), (await Memories.GetAsync(tenant, userLevel)).Value));
        Assert.Equal(JsonValueKind.Null, (await Memories.UpsertAsync(tenant, botLevel with { Key = "nothing" }, Json("null"))).Memory.Value.ValueKind);
        Assert.Equal(2, await db.ScalarAsync<long>("SELECT count(*) FROM bot_memories WHERE bot_id = $1 AND key = 'tone'", bot));

        await Memories.DeleteAsync(tenant, botLevel);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Memories.GetAsync(tenant, botLevel));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Memories.DeleteAsync(tenant, botLevel));
        Assert.Equal(user, (await Memories.GetAsync(tenant, userLevel)).UserId);
    }

    [Fact]
    public async Task Expired_memories_are_not_returned_are_replaced_by_the_next_upsert_and_swept_in_batches()
    {
        var (tenant, bot, user) = await SetupAsync();
        var key = new MemoryKey(bot, MemoryType.Short, user, "context");
        var (memory, _) = await Memories.UpsertAsync(tenant, key, Json("1"), DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.NotNull(memory.ExpiresAt);
        await Assert.ThrowsAsync<BotStoreValidationException>(() => Memories.UpsertAsync(tenant, key, Json("2"), DateTimeOffset.UtcNow.AddSeconds(-5)));

        await db.ExecuteAsync("UPDATE bot_memories SET expires_at = now() - interval '1 second' WHERE id = $1", memory.Id);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Memories.GetAsync(tenant, key));
        Assert.Empty((await Memories.ListAsync(tenant, bot)).Items);
        var (renewed, created) = await Memories.UpsertAsync(tenant, key, Json("3"));
        Assert.True(created);
        Assert.Null(renewed.ExpiresAt);

        var other = await SetupAsync();
        for (var i = 0; i < 25; i++)
        {
            await Memories.UpsertAsync(tenant, key with { Key = $"old {i}" }, Json("0"), DateTimeOffset.UtcNow.AddMinutes(1));
            await Memories.UpsertAsync(other.Tenant, new MemoryKey(other.Bot, MemoryType.Episodic, null, $"old {i}"), Json("0"), DateTimeOffset.UtcNow.AddMinutes(1));
        }
        await Memories.UpsertAsync(tenant, key with { Key = "later" }, Json("0"), DateTimeOffset.UtcNow.AddHours(1));
        await db.ExecuteAsync("UPDATE bot_memories SET expires_at = now() - interval '1 second' WHERE key LIKE 'old %'");
        Assert.Equal(50, await Memories.DeleteExpiredAsync(batchSize: 7));
        Assert.Equal(0, await Memories.DeleteExpiredAsync());
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM bot_memories WHERE key LIKE 'old %'"));
        Assert.Equal(["context", "later"], (await Memories.ListAsync(tenant, bot)).Items.Select(m => m.Key));
    }

    [Fact]
    public async Task Listing_pages_through_types_users_and_bot_level_keys_in_index_order()
    {
        var (tenant, bot, userA) = await SetupAsync();
        var userB = await Seed.UserAsync(db, tenant);
        var all = new List<MemoryKey>();
        foreach (var type in new[] { MemoryType.Semantic, MemoryType.Short })
            foreach (var user in new Guid?[] { null, userB, userA })
                foreach (var k in new[] { "b|2", "a", "c" })
                    all.Add(new MemoryKey(bot, type, user, k));
        foreach (var key in all)
            await Memories.UpsertAsync(tenant, key, Json("true"));
        var expected = all.OrderBy(k => k.MemoryType).ThenBy(k => k.UserId is null).ThenBy(k => k.UserId?.ToString(), StringComparer.Ordinal)
            .ThenBy(k => k.Key, StringComparer.Ordinal).ToList();

        foreach (var pageSize in new[] { 1, 2, 5, 100 })
            Assert.Equal(expected, await PagesAsync(tenant, bot, null, null, pageSize));
        Assert.Equal(expected.Where(k => k.MemoryType == MemoryType.Short), await PagesAsync(tenant, bot, MemoryType.Short, null, 2));
        Assert.Equal(expected.Where(k => k.UserId == userA), await PagesAsync(tenant, bot, null, userA, 2));
        Assert.Equal(expected.Where(k => k.UserId == userB && k.MemoryType == MemoryType.Semantic), await PagesAsync(tenant, bot, MemoryType.Semantic, userB, 1));
    }

    [Fact]
    public async Task Other_tenants_bots_and_users_are_not_found()
    {
        var (tenant, bot, user) = await SetupAsync();
        var other = await SetupAsync();
        await Memories.UpsertAsync(tenant, new MemoryKey(bot, MemoryType.Long, null, "k"), Json("1"));
        var stranger = new MemoryKey(bot, MemoryType.Long, null, "k");
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Memories.GetAsync(other.Tenant, stranger));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Memories.DeleteAsync(other.Tenant, stranger));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Memories.ListAsync(other.Tenant, bot));
        var writeBot = await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Memories.UpsertAsync(other.Tenant, stranger, Json("2")));
        Assert.Contains($"bot {bot}", writeBot.Message, StringComparison.Ordinal);
        var writeUser = await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Memories.UpsertAsync(other.Tenant, new MemoryKey(other.Bot, MemoryType.Long, user, "k"), Json("2")));
        Assert.Contains($"user {user}", writeUser.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Documents.UpsertAsync(other.Tenant, bot, "a.md", new DocumentState(SyncStatus.Pending)));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => Documents.ListAsync(other.Tenant, bot));
        Assert.Equal("1", (await Memories.GetAsync(tenant, stranger)).Value.GetRawText());
    }

    [Fact]
    public async Task Documents_upsert_by_path_keep_hash_and_size_unless_given_and_list_by_status()
    {
        var (tenant, bot, _) = await SetupAsync();
        var (doc, created) = await Documents.UpsertAsync(tenant, bot, "guides/setup.md", new DocumentState(SyncStatus.Pending, "sha256:aa", 120));
        Assert.True(created);
        Assert.Null(doc.SyncedAt);
        var (synced, createdAgain) = await Documents.UpsertAsync(tenant, bot, "guides/setup.md", new DocumentState(SyncStatus.Synced));
        Assert.False(createdAgain);
        Assert.Equal(doc.Id, synced.Id);
        Assert.Equal(("sha256:aa", 120L), (synced.ContentHash, synced.SizeBytes!.Value));
        Assert.NotNull(synced.SyncedAt);
        var (failed, _) = await Documents.UpsertAsync(tenant, bot, "guides/setup.md", new DocumentState(SyncStatus.Error, Error: "timeout"));
        Assert.Equal(synced.SyncedAt, failed.SyncedAt); // the last successful sync is kept
        Assert.Equal("timeout", failed.Error);
        Assert.Null((await Documents.UpsertAsync(tenant, bot, "guides/setup.md", new DocumentState(SyncStatus.Pending))).Document.Error);
        await Assert.ThrowsAsync<BotStoreValidationException>(() => Documents.UpsertAsync(tenant, bot, "x", new DocumentState(SyncStatus.Pending, SizeBytes: -1)));
        await Assert.ThrowsAsync<BotStoreValidationException>(() => Documents.UpsertAsync(tenant, bot, "", new DocumentState(SyncStatus.Pending)));

        var statuses = new[] { SyncStatus.Synced, SyncStatus.Error, SyncStatus.Pending, SyncStatus.Conflict, SyncStatus.Deleted, SyncStatus.Error };
        for (var i = 0; i < statuses.Length; i++)
            await Documents.UpsertAsync(tenant, bot, $"kb/{i}|doc.md", new DocumentState(statuses[i]));
        var work = new List<string>();
        string? after = null;
        do
        {
            var page = await Documents.ListAsync(tenant, bot, [SyncStatus.Pending, SyncStatus.Error], after, 2);
            work.AddRange(page.Items.Select(d => d.Path));
            after = page.Next;
        }
        while (after is not null);
        Assert.Equal(["guides/setup.md", "kb/1|doc.md", "kb/2|doc.md", "kb/5|doc.md"], work);
        Assert.Equal(7, (await Documents.ListAsync(tenant, bot)).Items.Count);
    }

    private async Task<List<MemoryKey>> PagesAsync(long tenant, Guid bot, MemoryType? type, Guid? user, int limit)
    {
        var keys = new List<MemoryKey>();
        string? after = null;
        do
        {
            var page = await Memories.ListAsync(tenant, bot, type, user, after, limit);
            keys.AddRange(page.Items.Select(m => new MemoryKey(m.BotId, m.MemoryType, m.UserId, m.Key)));
            after = page.Next;
        }
        while (after is not null);
        return keys;
    }

    private async Task<(long Tenant, Guid Bot, Guid User)> SetupAsync()
    {
        var tenant = await Seed.TenantAsync(db);
        return (tenant, await Seed.BotAsync(db, tenant), await Seed.UserAsync(db, tenant));
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
