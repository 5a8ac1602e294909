using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Data;

public sealed class MessageStoreTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private readonly Conversation _c = new(db.DataSource);

    [Fact]
    public async Task Appends_number_messages_from_zero_and_bump_the_session()
    {
        var w = await _c.NewWorldAsync();
        var first = await _c.SayAsync(w, "one");
        var second = await _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, MessageRole.Assistant, "two") { MessageType = MessageType.Image });
        Assert.Equal((0, 1), (first.MessageIndex, second.MessageIndex));
        Assert.True(first.Created && second.Created);
        Assert.Equal(Uuid7.Timestamp(first.Id), first.CreatedAt);

        var session = await _c.Sessions.GetAsync(w.TenantId, w.Session.Id);
        Assert.Equal(2, session.MessageCount);
        Assert.Equal(second.CreatedAt, session.LastActivityAt);
        var history = await _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false);
        Assert.Equal(["one", "two"], history.Items.Select(m => m.Content));
        Assert.Equal(MessageType.Image, history.Items[1].MessageType);
        Assert.True(history.Items[0].IsRead); // the user's own message
        Assert.False(history.Items[1].IsRead);
    }

    [Fact]
    public async Task Appends_and_bulk_batches_move_their_session_by_HOT_updates()
    {
        // Migration 0029: no session index holds the counters, so moving them writes a heap-only version of the row
        // (no new index entry). pageinspect shows the live version's HEAP_ONLY_TUPLE bit (0x8000 in t_infomask2).
        await db.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pageinspect");
        const string HeapOnly = """
            SELECT (i.t_infomask2 & 32768) <> 0
            FROM user_sessions s,
                 heap_page_items(get_raw_page('user_sessions', (s.ctid::text::point)[0]::int)) i
            WHERE s.id = $1 AND i.lp = (s.ctid::text::point)[1]::int
            """;
        var w = await _c.NewWorldAsync();
        Assert.False(await db.ScalarAsync<bool>(HeapOnly, w.Session.Id)); // as inserted
        for (var i = 0; i < 20; i++)
        {
            await _c.SayAsync(w, $"m{i}");
            Assert.True(await db.ScalarAsync<bool>(HeapOnly, w.Session.Id), $"append {i}");
        }
        await _c.Messages.BulkAppendAsync(w.TenantId, [.. Enumerable.Range(0, 5).Select(i => new NewMessage(w.Session.Id, MessageRole.User, $"b{i}"))]);
        Assert.True(await db.ScalarAsync<bool>(HeapOnly, w.Session.Id), "bulk batch");
        Assert.Equal(25, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
    }

    [Fact]
    public async Task A_retried_append_returns_the_first_result_and_consumes_no_index()
    {
        var w = await _c.NewWorldAsync();
        var id = Uuid7.New();
        var first = await _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, MessageRole.User, "hi") { Id = id });
        var retry = await _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, MessageRole.User, "hi (again)") { Id = id });
        Assert.True(first.Created);
        Assert.False(retry.Created);
        Assert.Equal((first.Id, first.MessageIndex, first.CreatedAt), (retry.Id, retry.MessageIndex, retry.CreatedAt));
        Assert.Equal(1, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(1, (await _c.SayAsync(w, "next")).MessageIndex);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE id = $1", id));
        Assert.Equal("hi", (await _c.Messages.FindAsync(w.TenantId, id))!.Content);
    }

    [Fact]
    public async Task Concurrent_appends_to_one_session_get_distinct_gap_free_indexes()
    {
        var w = await _c.NewWorldAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => _c.SayAsync(w, $"m{i}"))));
        Assert.Equal(Enumerable.Range(0, 40), results.Select(r => r.MessageIndex).Order());
        Assert.Equal(40, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(40L, await db.ScalarAsync<long>("SELECT count(DISTINCT message_index) FROM message_history WHERE session_id = $1", w.Session.Id));
    }

    [Fact]
    public async Task Concurrent_retries_of_one_id_store_one_row()
    {
        var w = await _c.NewWorldAsync();
        const int Rounds = 10;
        for (var round = 0; round < Rounds; round++)
        {
            var id = Uuid7.New();
            using var start = new SemaphoreSlim(0);
            var tasks = Enumerable.Range(0, 12).Select(_ => Task.Run(async () =>
            {
                await start.WaitAsync();
                return await _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, MessageRole.User, "same") { Id = id });
            })).ToList();
            start.Release(tasks.Count);
            var results = await Task.WhenAll(tasks);
            Assert.Single(results, r => r.Created);
            Assert.All(results, r => Assert.Equal(round, r.MessageIndex));
            Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE id = $1", id));
        }
        Assert.Equal(Rounds, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
    }

    [Fact]
    public async Task An_append_under_way_is_finished_when_its_caller_gives_up_and_one_not_yet_sent_writes_nothing()
    {
        var w = await _c.NewWorldAsync();
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();
        var early = Uuid7.New();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, MessageRole.User, "never sent") { Id = early }, gone.Token));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE id = $1", early));

        // The session row held elsewhere keeps the append waiting inside the server while its caller gives up.
        var id = Uuid7.New();
        var result = await BlockedWrite.CancelWhileWaitingAsync(db, "SELECT 1 FROM user_sessions WHERE id = $1 FOR UPDATE", w.Session.Id,
            "botstore_append_message", token => _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, MessageRole.User, "under way") { Id = id }, token));
        Assert.True(result.Created);
        Assert.Equal((1L, 1), (await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE id = $1", id),
            (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount));
    }

    [Fact]
    public async Task Bad_appends_are_refused_and_write_nothing()
    {
        var w = await _c.NewWorldAsync();
        var other = await _c.NewWorldAsync();
        var used = await _c.SayAsync(w, "first");
        var otherSession = await _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Slack);

        await Assert.ThrowsAsync<BotStoreValidationException>(() =>
            _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, MessageRole.User, "v4") { Id = Guid.NewGuid() }));
        var backdated = await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Messages.AppendAsync(w.TenantId,
            new NewMessage(w.Session.Id, MessageRole.User, "old") { Id = Uuid7.At(DateTimeOffset.UtcNow.AddHours(-2)) }));
        Assert.Contains("before the session's latest message", backdated.Message, StringComparison.Ordinal);
        var future = await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Messages.AppendAsync(w.TenantId,
            new NewMessage(w.Session.Id, MessageRole.User, "new") { Id = Uuid7.At(DateTimeOffset.UtcNow.AddHours(2)) }));
        Assert.Contains("ahead of the database's clock", future.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BotStoreValidationException>(() =>
            _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, (MessageRole)5, "no such role")));
        await Assert.ThrowsAsync<BotStoreConflictException>(() =>
            _c.Messages.AppendAsync(w.TenantId, new NewMessage(otherSession.Id, MessageRole.User, "reuse") { Id = used.Id }));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.SayAsync(other, "into another tenant's session", w.Session.Id));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.SayAsync(w, "nowhere", Uuid7.New()));

        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", w.TenantId));
        Assert.Equal(1, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(0, (await _c.Sessions.GetAsync(w.TenantId, otherSession.Id)).MessageCount);
    }

    [Fact]
    public async Task History_pages_by_index_both_ways_with_cursors_and_plain_indexes()
    {
        var w = await _c.NewWorldAsync();
        await _c.Messages.BulkAppendAsync(w.TenantId, Enumerable.Range(0, 25).Select(i => new NewMessage(w.Session.Id, MessageRole.User, $"m{i}")).ToList());

        var pages = new List<int[]>();
        string? before = null;
        do
        {
            var page = await _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: true, before: before, limit: 10);
            pages.Add(page.Items.Select(m => m.MessageIndex).ToArray());
            before = page.Next;
        }
        while (before is not null);
        Assert.Equal([Enumerable.Range(15, 10).Reverse().ToArray(), Enumerable.Range(5, 10).Reverse().ToArray(), Enumerable.Range(0, 5).Reverse().ToArray()], pages);

        var oldest = await _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false, limit: 10);
        var next = await _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false, after: oldest.Next, limit: 10);
        Assert.Equal(Enumerable.Range(10, 10), next.Items.Select(m => m.MessageIndex));
        var window = await _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false, after: "3", before: "7");
        Assert.Equal([4, 5, 6], window.Items.Select(m => m.MessageIndex));
        Assert.Null(window.Next);

        await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, before: "not-a-cursor"));
        await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, limit: 201));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Messages.HistoryAsync(w.TenantId, Uuid7.New()));
        Assert.Empty((await _c.Messages.HistoryAsync(w.TenantId, (await _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Web)).Id)).Items);
    }

    [Fact]
    public async Task Unread_lists_what_the_user_has_not_read_until_marked()
    {
        var w = await _c.NewWorldAsync();
        for (var i = 0; i < 6; i++)
            await _c.Messages.AppendAsync(w.TenantId, new NewMessage(w.Session.Id, i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"m{i}"));
        var unread = await _c.Messages.UnreadAsync(w.TenantId, w.User.Id);
        Assert.Equal([1, 3, 5], unread.Items.Select(m => m.MessageIndex));

        var page = await _c.Messages.UnreadAsync(w.TenantId, w.User.Id, limit: 2);
        Assert.Equal([1, 3], page.Items.Select(m => m.MessageIndex));
        Assert.Equal([5], (await _c.Messages.UnreadAsync(w.TenantId, w.User.Id, after: page.Next)).Items.Select(m => m.MessageIndex));

        Assert.Equal(2, await _c.Messages.MarkReadAsync(w.TenantId, w.Session.Id, 3));
        Assert.Equal(0, await _c.Messages.MarkReadAsync(w.TenantId, w.Session.Id, 3));
        Assert.Equal([5], (await _c.Messages.UnreadAsync(w.TenantId, w.User.Id)).Items.Select(m => m.MessageIndex));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Messages.MarkReadAsync(w.TenantId, Uuid7.New(), 3));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Messages.UnreadAsync(w.TenantId, Uuid7.New()));
    }
}
