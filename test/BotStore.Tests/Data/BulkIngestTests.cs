using System.Text.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Data;

public sealed class BulkIngestTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private readonly Conversation _c = new(db.DataSource);

    [Fact]
    public async Task A_batch_continues_each_sessions_numbering_and_a_retry_writes_nothing()
    {
        var w = await _c.NewWorldAsync();
        var second = await _c.Sessions.CreateAsync(w.TenantId, w.User.Id, w.Bot.Id, ChannelType.Telegram);
        await _c.SayAsync(w, "live 0");
        await _c.SayAsync(w, "live 1");
        var metadata = JsonDocument.Parse("""{"lang":"pt"}""").RootElement;
        var batch = Enumerable.Range(0, 30)
            .Select(i => new NewMessage(i % 3 == 0 ? second.Id : w.Session.Id, i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"b{i}")
                { Id = Uuid7.New(), Metadata = i == 4 ? metadata : null })
            .ToList();

        var result = await _c.Messages.BulkAppendAsync(w.TenantId, batch);
        Assert.Equal((30, 30, 0), (result.Received, result.Inserted, result.Duplicates));
        var first = await _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false, limit: 200);
        Assert.Equal(Enumerable.Range(0, 22), first.Items.Select(m => m.MessageIndex));
        Assert.Equal(["live 0", "live 1", "b1", "b2", "b4"], first.Items.Take(5).Select(m => m.Content));
        Assert.Equal("pt", first.Items[4].Metadata!.Value.GetProperty("lang").GetString());
        Assert.Equal(Enumerable.Range(0, 10), (await _c.Messages.HistoryAsync(w.TenantId, second.Id, newestFirst: false)).Items.Select(m => m.MessageIndex));
        Assert.Equal(22, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(batch.Where(m => m.SessionId == second.Id).Max(m => Uuid7.Timestamp(m.Id!.Value)), (await _c.Sessions.GetAsync(w.TenantId, second.Id)).LastActivityAt);

        // The client retries the whole batch with one new message and one repeated within it.
        var extra = new NewMessage(second.Id, MessageRole.User, "late") { Id = Uuid7.New() };
        var retry = await _c.Messages.BulkAppendAsync(w.TenantId, [.. batch, extra, extra]);
        Assert.Equal((32, 1, 31), (retry.Received, retry.Inserted, retry.Duplicates));
        Assert.Equal(10, (await _c.Messages.FindAsync(w.TenantId, extra.Id!.Value))!.MessageIndex);
        Assert.Equal(11, (await _c.Sessions.GetAsync(w.TenantId, second.Id)).MessageCount);
        Assert.Equal(22, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
    }

    [Fact]
    public async Task Explicit_indexes_are_kept_and_the_next_ones_come_after_them()
    {
        var w = await _c.NewWorldAsync();
        await _c.Messages.BulkAppendAsync(w.TenantId,
        [
            new NewMessage(w.Session.Id, MessageRole.User, "five") { MessageIndex = 5 },
            new NewMessage(w.Session.Id, MessageRole.User, "implicit"),
            new NewMessage(w.Session.Id, MessageRole.User, "two") { MessageIndex = 2 },
        ]);
        var items = (await _c.Messages.HistoryAsync(w.TenantId, w.Session.Id, newestFirst: false)).Items;
        Assert.Equal([(2, "two"), (5, "five"), (6, "implicit")], items.Select(m => (m.MessageIndex, m.Content)));
        Assert.Equal(7, (await _c.SayAsync(w, "appended")).MessageIndex);
    }

    [Fact]
    public async Task A_bad_message_fails_the_whole_batch_naming_it_and_nothing_is_written()
    {
        var w = await _c.NewWorldAsync();
        var other = await _c.NewWorldAsync();
        await _c.SayAsync(w, "zero");
        NewMessage Ok(int i) => new(w.Session.Id, MessageRole.User, $"ok{i}");

        var missing = await Assert.ThrowsAsync<BotStoreNotFoundException>(() =>
            _c.Messages.BulkAppendAsync(w.TenantId, [Ok(0), new NewMessage(other.Session.Id, MessageRole.User, "foreign"), Ok(2)]));
        Assert.Contains("messages[1].session_id", missing.Message, StringComparison.Ordinal);
        var taken = await Assert.ThrowsAsync<BotStoreValidationException>(() =>
            _c.Messages.BulkAppendAsync(w.TenantId, [Ok(0), Ok(1), new NewMessage(w.Session.Id, MessageRole.User, "x") { MessageIndex = 0 }]));
        Assert.Contains("messages[2].message_index", taken.Message, StringComparison.Ordinal);
        var twice = await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Messages.BulkAppendAsync(w.TenantId,
            [new NewMessage(w.Session.Id, MessageRole.User, "a") { MessageIndex = 9 }, new NewMessage(w.Session.Id, MessageRole.User, "b") { MessageIndex = 9 }]));
        Assert.Contains("appears more than once", twice.Message, StringComparison.Ordinal);
        var backdated = await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Messages.BulkAppendAsync(w.TenantId,
            [Ok(0), new NewMessage(w.Session.Id, MessageRole.User, "old") { Id = Uuid7.At(DateTimeOffset.UtcNow.AddHours(-3)) }]));
        Assert.Contains("messages[1].id", backdated.Message, StringComparison.Ordinal);
        var notV7 = await Assert.ThrowsAsync<BotStoreValidationException>(() =>
            _c.Messages.BulkAppendAsync(w.TenantId, [Ok(0), new NewMessage(w.Session.Id, MessageRole.User, "v4") { Id = Guid.NewGuid() }]));
        Assert.Contains("messages[1]", notV7.Message, StringComparison.Ordinal);

        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", w.TenantId));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", other.TenantId));
        Assert.Equal(1, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
    }

    [Fact]
    public async Task A_stream_is_stored_in_batches()
    {
        var w = await _c.NewWorldAsync();
        async IAsyncEnumerable<NewMessage> Stream()
        {
            for (var i = 0; i < 25; i++)
            {
                await Task.Yield();
                yield return new NewMessage(w.Session.Id, MessageRole.Assistant, $"s{i}");
            }
        }
        var result = await _c.Messages.BulkAppendAsync(w.TenantId, Stream(), batchSize: 10);
        Assert.Equal((25, 25), (result.Received, result.Inserted));
        Assert.Equal(25, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
    }

    [Fact]
    public async Task A_bad_message_in_a_later_batch_of_a_stream_leaves_the_batches_before_it_stored()
    {
        var w = await _c.NewWorldAsync();
        async IAsyncEnumerable<NewMessage> Stream()
        {
            for (var i = 0; i < 25; i++)
            {
                await Task.Yield();
                yield return new NewMessage(w.Session.Id, MessageRole.User, i == 15 ? "bad\0" : $"s{i}");
            }
        }
        // Each batch is its own transaction: the first stays stored, the second is refused as a whole.
        var bad = await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Messages.BulkAppendAsync(w.TenantId, Stream(), batchSize: 10));
        Assert.Contains("messages[5]: content", bad.Message, StringComparison.Ordinal);
        Assert.Equal(10, (await _c.Sessions.GetAsync(w.TenantId, w.Session.Id)).MessageCount);
        Assert.Equal(10L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", w.TenantId));
    }

    [Fact]
    public async Task A_batch_that_fails_on_the_server_is_the_failure_reported_though_the_next_batch_read_meanwhile_is_bad_too()
    {
        var w = await _c.NewWorldAsync();
        var missing = Uuid7.New();
        async IAsyncEnumerable<NewMessage> Stream()
        {
            for (var i = 0; i < 20; i++)
            {
                await Task.Yield();
                // The first batch names a session that does not exist (found only once its sessions are locked); the
                // second is bad on its face (checked on the client while the first loads).
                yield return new NewMessage(i == 3 ? missing : w.Session.Id, MessageRole.User, i == 12 ? "bad\0" : $"s{i}");
            }
        }
        var failed = await Assert.ThrowsAsync<BotStoreNotFoundException>(() => _c.Messages.BulkAppendAsync(w.TenantId, Stream(), batchSize: 10));
        Assert.Contains($"messages[3].session_id", failed.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE tenant_id = $1", w.TenantId));
    }

    [Fact]
    public async Task Events_out_of_order_and_repeated_in_a_stream_are_stored_once_each()
    {
        var w = await _c.NewWorldAsync();
        var ids = Enumerable.Range(0, 30).Select(_ => Uuid7.New()).ToList();
        async IAsyncEnumerable<NewEvent> Stream()
        {
            // Newest first, and each id twice in a row.
            foreach (var id in Enumerable.Reverse(ids))
            {
                await Task.Yield();
                yield return new NewEvent("seen", ChannelType.Web) { Id = id };
                yield return new NewEvent("seen", ChannelType.Web) { Id = id };
            }
        }
        var result = await _c.Analytics.IngestAsync(w.TenantId, Stream(), batchSize: 7);
        Assert.Equal((60, 30), (result.Received, result.Inserted));
        Assert.Equal(30, await CountEventsAsync(w.TenantId));
    }

    [Fact]
    public async Task Events_are_ingested_once_per_id_under_the_tenant()
    {
        var w = await _c.NewWorldAsync();
        var events = Enumerable.Range(0, 50)
            .Select(i => new NewEvent($"clicked_{i % 5}", ChannelType.Web)
                { Id = Uuid7.New(), SessionId = w.Session.Id, UserId = w.User.Id, Properties = JsonDocument.Parse($$"""{"n":{{i}}}""").RootElement })
            .ToList();
        Assert.Equal((50, 50), ((await _c.Analytics.IngestAsync(w.TenantId, events)).Received, (await CountEventsAsync(w.TenantId))));
        var retry = await _c.Analytics.IngestAsync(w.TenantId, [.. events.Take(10), new NewEvent("new", ChannelType.Api)]);
        Assert.Equal((11, 1, 10), (retry.Received, retry.Inserted, retry.Duplicates));
        Assert.Equal(51, await CountEventsAsync(w.TenantId));
        Assert.Equal(49, await db.ScalarAsync<int>("SELECT max((properties->>'n')::int) FROM analytics_events WHERE tenant_id = $1", w.TenantId));
        await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Analytics.IngestAsync(w.TenantId, [new NewEvent("", ChannelType.Web)]));
        await Assert.ThrowsAsync<BotStoreValidationException>(() => _c.Analytics.IngestAsync(w.TenantId, [new NewEvent("x", (ChannelType)42)]));
    }

    [Fact]
    public async Task The_only_triggers_a_direct_copy_skips_are_the_session_foreign_key_its_locks_stand_for()
    {
        // The direct COPY runs with session_replication_role = replica (DirectCopy.SkipKeyChecksSql), which skips every
        // trigger and rule of message_history and its partitions that is not ENABLE REPLICA or ALWAYS (those would fire).
        // That is sound only while the foreign key (tenant_id, session_id) to user_sessions is all there is: a trigger
        // or rule added later must fail here until the direct COPY is made to do its work.
        const string Tree = "SELECT relid FROM pg_partition_tree('message_history')";
        var sessionKeyTriggers = await db.ScalarAsync<long>($"""
            SELECT count(*) FROM pg_trigger t JOIN pg_constraint c ON c.oid = t.tgconstraint
            WHERE t.tgrelid IN ({Tree}) AND t.tgenabled = 'O' AND c.contype = 'f' AND c.confrelid = 'user_sessions'::regclass
              AND ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) = ARRAY['tenant_id', 'session_id']
            """);
        var allTriggers = await db.ScalarAsync<long>($"SELECT count(*) FROM pg_trigger WHERE tgrelid IN ({Tree})");
        var rules = await db.ScalarAsync<long>($"SELECT count(*) FROM pg_rewrite WHERE ev_class IN ({Tree})");
        Assert.True(sessionKeyTriggers > 0, "message_history has no foreign key to user_sessions");
        Assert.Equal((allTriggers, 0L), (sessionKeyTriggers, rules));
    }

    private async Task<int> CountEventsAsync(long tenantId) =>
        (int)await db.ScalarAsync<long>("SELECT count(*) FROM analytics_events WHERE tenant_id = $1", tenantId);
}
