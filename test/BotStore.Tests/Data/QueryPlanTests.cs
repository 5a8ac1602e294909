using System.Text.Json;
using BotStore.Data;
using BotStore.Data.Internal;
using BotStore.Partitions;

namespace BotStore.Tests.Data;

/// <summary>
/// Query plans are part of the contract: each hot statement, exactly as its store runs it (same SQL text, same
/// arguments, as botstore_app with the tenant set), uses its index and reads only the partitions it needs.
/// </summary>
public sealed partial class QueryPlanTests(PlanDatabase plans, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PlanDatabase>
{
    [Fact]
    public async Task The_fixture_has_a_realistic_volume()
    {
        Assert.True(await plans.Db.ScalarAsync<long>("SELECT count(*) FROM message_history") >= 200_000);
        Assert.True(await plans.Db.ScalarAsync<long>("SELECT count(*) FROM user_sessions") >= 20_000);
        Assert.True(await plans.Db.ScalarAsync<long>("SELECT count(*) FROM pg_inherits WHERE inhparent = 'message_history'::regclass") >= 24);
        Assert.True(await plans.Db.ScalarAsync<long>("SELECT count(DISTINCT date_trunc('month', created_at)) FROM message_history") >= 2);
    }

    [Fact]
    public async Task Session_history_plans_only_the_sessions_months_and_reads_idx_messages_session()
    {
        var partitions = await MessagePartitionsAsync();
        var firstDataMonth = plans.Sessions.Min(s => s.CreatedAt);
        // A session that started after the first month of data, so there are older months holding rows to skip.
        var session = plans.Sessions.First(s => Month(s.CreatedAt) > Month(firstDataMonth));
        await using var conn = await plans.OpenUnpooledAsync();
        var page = PageOf(await plans.RunExplainedAsync(conn, session.Tenant, MessageStore.HistorySql,
            MessageStore.HistoryArgs(session.Tenant, session.Id, true, null, null, 50)));

        // Planned (not merely executed) partitions: from the session's month to the current one, no default.
        var planned = page.ScansOf("message_history").Select(Relation).ToHashSet();
        var now = DateTimeOffset.UtcNow;
        var expected = partitions.Where(p => !p.IsDefault && p.To > session.CreatedAt.AddHours(-1) && p.From <= now.AddHours(1)).Select(p => p.Name);
        Assert.True(planned.SetEquals(expected), $"planned {string.Join(", ", planned.Order())}, expected {string.Join(", ", expected)}:\n{page}");
        var read = page.ScansOf("message_history").Single(s => Relation(s) == Partition(partitions, session.CreatedAt));
        Assert.Equal("idx_messages_session", page.AccessIndexOf(read));
        Assert.Equal(PlanDatabase.MessagesPerSession, RowsOut(page.Root));

        // With the cursor of a page, the months after it are skipped too.
        var oldSession = plans.Sessions.First(s => Month(s.CreatedAt) == Month(firstDataMonth) && s.CreatedAt.Day < 25);
        var firstPage = await new MessageStore(plans.Db.DataSource).HistoryAsync(oldSession.Tenant, oldSession.Id, limit: 4);
        var next = PageOf(await plans.RunExplainedAsync(conn, oldSession.Tenant, MessageStore.HistorySql,
            MessageStore.HistoryArgs(oldSession.Tenant, oldSession.Id, true, null, firstPage.Next, 4)));
        Assert.Equal([Partition(partitions, oldSession.CreatedAt)], next.ScansOf("message_history").Select(Relation));
        Assert.Equal(5, RowsOut(next.Root)); // a page of 4 and the row that says there is another
    }

    [Fact]
    public async Task A_generic_plan_of_the_history_page_still_skips_the_older_months()
    {
        // PostgreSQL may settle on a generic plan for the function's statement: the partitions are pruned when it
        // starts instead, by the same bounds.
        var partitions = await MessagePartitionsAsync();
        var firstDataMonth = plans.Sessions.Min(s => s.CreatedAt);
        var session = plans.Sessions.Last(s => Month(s.CreatedAt) > Month(firstDataMonth));
        await using var conn = await plans.OpenUnpooledAsync();
        await using (var generic = new Npgsql.NpgsqlCommand("SET plan_cache_mode = force_generic_plan", conn))
            await generic.ExecuteNonQueryAsync();
        var page = PageOf(await plans.RunExplainedAsync(conn, session.Tenant, MessageStore.HistorySql,
            MessageStore.HistoryArgs(session.Tenant, session.Id, true, null, null, 50)));

        Assert.True(page.Nodes.Any(n => n.TryGetProperty("Subplans Removed", out var removed) && removed.GetInt32() > 0), page.ToString());
        var executed = page.ScansOf("message_history").Where(Plan.Executed).Select(Relation).ToList();
        Assert.Contains(Partition(partitions, session.CreatedAt), executed);
        foreach (var p in partitions.Where(p => !p.IsDefault && p.To <= Month(session.CreatedAt)))
            Assert.DoesNotContain(p.Name, executed);
        Assert.Equal(PlanDatabase.MessagesPerSession, RowsOut(page.Root));
    }

    [Fact]
    public async Task A_users_sessions_come_from_idx_sessions_covering()
    {
        var session = plans.Sessions[123];
        // Not index-only since migration 0029: the counters are read from the heap, so that their updates are HOT. For
        // a user's few sessions the planner may take them through a bitmap of the same index; either way it is one
        // read of the user's entries in idx_sessions_covering.
        var plan = await plans.ExplainAsync(session.Tenant, SessionStore.ListByUserSql, SessionStore.ListByUserArgs(session.Tenant, session.User, null, 50));
        var scan = Assert.Single(plan.ScansOf("user_sessions"));
        Assert.Equal("idx_sessions_covering", plan.AccessIndexOf(scan));
        Assert.Equal(PlanDatabase.SessionsPerUser, RowsOut(plan.Root));

        var digest = await plans.ExplainAsync(session.Tenant, SessionStore.ListByUserWithMessagesSql,
            [.. SessionStore.ListByUserArgs(session.Tenant, session.User, null, 50), 3]);
        var sessionScan = Assert.Single(digest.ScansOf("user_sessions"));
        Assert.Equal("idx_sessions_covering", digest.AccessIndexOf(sessionScan));
        Assert.All(digest.ScansOf("message_history").Where(Plan.Executed), s => Assert.Equal("idx_messages_session", digest.AccessIndexOf(s)));
    }

    [Fact]
    public async Task Unread_messages_come_from_idx_messages_unread()
    {
        var session = plans.Sessions[4567];
        var plan = await plans.ExplainAsync(session.Tenant, MessageStore.UnreadSql, MessageStore.UnreadArgs(session.Tenant, session.User, null, 50));
        var populated = (await MessagePartitionsAsync()).Where(p => p.EstimatedRows > 0).Select(p => p.Name).ToHashSet();
        var reads = plan.ScansOf("message_history").Where(s => populated.Contains(Relation(s))).ToList();
        Assert.NotEmpty(reads);
        Assert.All(reads, s => Assert.True(plan.AccessIndexOf(s) == "idx_messages_unread", $"{Relation(s)}: {s}"));
        Assert.Equal(PlanDatabase.SessionsPerUser * 2, RowsOut(plan.Root));
    }

    [Fact]
    public async Task Active_bots_come_from_their_page_index_and_the_tenants_sessions_from_idx_sessions_tenant()
    {
        var tenant = plans.TenantIds[1];
        var bots = await plans.ExplainAsync(tenant, BotRegistry.ListActiveSql, BotRegistry.ListArgs(tenant, null, 50));
        var scan = Assert.Single(bots.ScansOf("bots"));
        Assert.Equal("idx_bots_active_page", bots.AccessIndexOf(scan));
        Assert.Equal(51, RowsOut(bots.Root));

        var sessions = await plans.ExplainAsync(tenant, SessionStore.ListByTenantSql, [tenant, new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), Guid.AllBitsSet, 51]);
        Assert.Equal("idx_sessions_tenant", sessions.AccessIndexOf(Assert.Single(sessions.ScansOf("user_sessions"))));
    }

    [Fact]
    public async Task Bulk_ingest_probes_indexes_and_never_scans_the_tenants_messages_or_sessions()
    {
        var tenant = plans.TenantIds[2];
        var sessions = plans.Sessions.Where(s => s.Tenant == tenant).Take(50).ToList();
        var now = DateTimeOffset.UtcNow;
        var ids = Enumerable.Range(0, 1000).Select(i => Uuid7.At(now.AddMilliseconds(i))).ToArray();
        await using var conn = await plans.Db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var fill = TenantScope.Batch(conn, tenant).Add(MessageStore.CreateIncomingSql).Add("""
            INSERT INTO botstore_incoming_messages (ord, id, created_at, session_id, role, message_type, content)
            SELECT ord - 1, id, uuid7_time(id), session, 2, 0, 'bulk' FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS x(id, session, ord)
            """, ids, ids.Select((_, i) => sessions[i % sessions.Count].Id).ToArray()))
            await fill.ExecuteNonQueryAsync();
        await using var explain = TenantScope.Batch(conn, tenant)
            .Add(MessageStore.LockIncomingSessionsSql, tenant)
            .Add("EXPLAIN (ANALYZE, FORMAT JSON) " + MessageStore.BulkInsertSql, tenant);
        string json;
        await using (var reader = await explain.ReadAsync(default))
        {
            await reader.NextResultAsync();
            await reader.ReadAsync();
            json = reader.GetString(0);
        }
        await tx.RollbackAsync();

        using var doc = JsonDocument.Parse(json);
        var plan = new Plan(doc.RootElement[0].GetProperty("Plan").Clone(), new Dictionary<string, string>());
        var insert = plan.Nodes.Single(n => n.GetProperty("Node Type").GetString() == "ModifyTable" && n.GetProperty("Operation").GetString() == "Insert");
        Assert.Equal(1000, insert.GetProperty("Actual Rows").GetInt64());
        var seqScans = plan.Nodes.Where(n => n.GetProperty("Node Type").GetString() == "Seq Scan" && Plan.Executed(n)
            && Relation(n) is var r && (r.StartsWith("message_history", StringComparison.Ordinal) || r == "user_sessions")).Select(Relation).ToList();
        Assert.True(seqScans.Count == 0, $"scanned {string.Join(", ", seqScans)}:\n{plan}");
    }

    // The plan of the statement that reads the page, inside botstore_session_history.
    private static Plan PageOf(List<(string Query, Plan Plan)> plans) =>
        plans.Single(p => p.Query.Contains("FROM message_history m", StringComparison.Ordinal)).Plan;

    private async Task<List<PartitionInfo>> MessagePartitionsAsync() =>
        (await PartitionInfo.ListAsync(plans.Db.DataSource)).Where(p => p.Parent == "message_history").ToList();

    private static string Partition(List<PartitionInfo> partitions, DateTimeOffset at) =>
        partitions.Single(p => !p.IsDefault && p.From <= at && at < p.To).Name;

    private static DateTimeOffset Month(DateTimeOffset t) => new(t.Year, t.Month, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Relation(JsonElement scan) => scan.GetProperty("Relation Name").GetString()!;

    private static long RowsOut(JsonElement root) => root.GetProperty("Actual Rows").GetInt64();
}
