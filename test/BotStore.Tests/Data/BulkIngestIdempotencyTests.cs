using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Data;

/// <summary>
/// The direct-COPY path probes only the ids up to the tenant's greatest stored id (no id above it can be stored) and
/// numbers the rows in the library: a retry skips what is stored wherever its id sits, older new messages are
/// still written, another tenant's ids change nothing, and two copies of one batch at once store it once.
/// </summary>
public sealed class BulkIngestIdempotencyTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private readonly Conversation _c = new(db.DataSource);

    [Fact]
    public async Task A_retry_skips_stored_ids_below_and_above_the_greatest_and_writes_older_new_ones()
    {
        var w = await _c.NewWorldAsync(DateTimeOffset.UtcNow.AddMinutes(-30));
        var second = await _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Web);
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddMinutes(-20).ToUnixTimeMilliseconds());
        NewMessage At(int ms, Guid session, string text) => new(session, MessageRole.User, text) { Id = Uuid7.At(t0.AddMilliseconds(ms)) };
        // Stored first: ids at 100..109 ms, the greatest stored id at 109 ms.
        var first = Enumerable.Range(100, 10).Select(i => At(i, i % 2 == 0 ? w.Session.Id : second.Id, $"first {i}")).ToList();
        Assert.Equal(10, (await _c.Messages.BulkAppendAsync(w.TenantId, first)).Inserted);
        // Another tenant stores later ids: the bound is the tenant's own.
        var other = await _c.NewWorldAsync(DateTimeOffset.UtcNow.AddMinutes(-30));
        Assert.Equal(3, (await _c.Messages.BulkAppendAsync(other.TenantId,
            Enumerable.Range(500, 3).Select(i => At(i, other.Session.Id, $"other {i}")).ToList())).Inserted);

        // The retry: every stored id again (one of them named for the other session: still the stored message), two
        // new ids below the greatest stored one, one above it, and a repeat within the batch.
        var older = At(50, second.Id, "older, new");
        var between = At(105, w.Session.Id, "between, new") with { Id = Uuid7.At(t0.AddMilliseconds(105).AddTicks(1)) };
        var later = At(200, w.Session.Id, "later, new");
        List<NewMessage> retry = [.. first.Take(9), first[9] with { SessionId = w.Session.Id }, older, between, later, later];
        var result = await _c.Messages.BulkAppendAsync(w.TenantId, retry);
        Assert.Equal((14, 3, 11), (result.Received, result.Inserted, result.Duplicates));

        Assert.Equal(13L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", w.TenantId));
        Assert.Equal(3L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", other.TenantId));
        // New messages take the next indexes in time order, whatever their ids.
        var main = (await _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false)).Items;
        Assert.Equal(Enumerable.Range(0, 7), main.Select(m => m.MessageIndex));
        Assert.Equal(["between, new", "later, new"], main.Skip(5).Select(m => m.Content));
        var side = (await _c.Messages.HistoryAsync(w.TenantId, second.Id, newestFirst: false)).Items;
        Assert.Equal([(5, "older, new")], side.Skip(5).Select(m => (m.MessageIndex, m.Content)));
        Assert.Equal(7, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(6, (await _c.Sessions.GetAsync(w.TenantId, second.Id)).MessageCount);
        Assert.Equal(t0.AddMilliseconds(200), (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).LastActivityAt);

        // Events: the same bound, the same skips.
        var events = Enumerable.Range(100, 5).Select(i => new NewEvent("seen", ChannelType.Web) { Id = Uuid7.At(t0.AddMilliseconds(i)) }).ToList();
        Assert.Equal(5, (await _c.Analytics.IngestAsync(w.TenantId, events)).Inserted);
        var again = await _c.Analytics.IngestAsync(w.TenantId,
            [.. events, new NewEvent("older", ChannelType.Web) { Id = Uuid7.At(t0.AddMilliseconds(1)) }, new NewEvent("later", ChannelType.Web) { Id = Uuid7.At(t0.AddMilliseconds(900)) }]);
        Assert.Equal((7, 2), (again.Received, again.Inserted));
    }

    [Fact]
    public async Task Two_copies_of_one_batch_at_once_store_it_once_numbered_without_gaps()
    {
        var w = await _c.NewWorldAsync();
        var sessions = new List<Guid> { w.Session.Id };
        for (var i = 0; i < 3; i++)
            sessions.Add((await _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Web)).Id);
        await _c.SayAsync(w, "live");
        var batch = Enumerable.Range(0, 400).Select(i => new NewMessage(sessions[i % 4], MessageRole.Assistant, $"m{i}") { Id = Uuid7.New() }).ToList();

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => _c.Messages.BulkAppendAsync(w.TenantId, batch))));

        Assert.Equal(400, results.Sum(r => r.Inserted));
        Assert.Contains(results, r => r.Inserted == 0);
        foreach (var session in sessions)
        {
            var items = (await _c.Messages.HistoryAsync(w.TenantId, session, newestFirst: false, limit: 200)).Items;
            Assert.Equal(Enumerable.Range(0, items.Count), items.Select(m => m.MessageIndex));
            Assert.Equal(items.Count, (await _c.Sessions.GetAsync(w.TenantId, session)).MessageCount);
        }
        Assert.Equal(401L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", w.TenantId));
    }
}
