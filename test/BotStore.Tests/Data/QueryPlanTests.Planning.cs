using BotStore.Data;

namespace BotStore.Tests.Data;

/// <summary>
/// What planning the hot statements costs, in shared buffers (deterministic on a fixed data set, unlike time):
/// on a server connection that has run the statement before, and on its very first statement.
/// </summary>
public sealed partial class QueryPlanTests
{
    [Fact]
    public async Task Session_history_reads_few_buffers_to_plan_on_a_new_and_on_a_warm_server_connection()
    {
        var session = plans.Sessions[^1];
        var args = MessageStore.HistoryArgs(session.Tenant, session.Id, true, null, null, 50);
        await using var conn = await plans.OpenUnpooledAsync();
        // The first statement of a server connection fills its catalog caches for every relation it plans: with
        // every monthly partition planned (25 here) that was about 2,500 buffers more than a lookup of the session.
        // The lookup comes first, so what is left is the cost of message_history's partitions.
        await PlanDatabase.BuffersAsync(conn, session.Tenant, "SELECT created_at FROM user_sessions WHERE tenant_id = $1 AND id = $2", [session.Tenant, session.Id]);
        var first = await PlanDatabase.BuffersAsync(conn, session.Tenant, MessageStore.HistorySql, args);
        var warm = await PlanDatabase.BuffersAsync(conn, session.Tenant, MessageStore.HistorySql, args);
        output.WriteLine($"history: first call {first.Total} buffers, warm {warm.Total} (planning {warm.Planning})");
        Assert.True(first.Total < 1_000, $"the first history call on a new connection read {first.Total} buffers");
        // Planning the function call itself touches no table; its inner statements are planned while it runs.
        Assert.True(warm.Planning <= 2, $"planning the history call read {warm.Planning} buffers");
        Assert.True(warm.Total <= 40, $"a warm history call read {warm.Total} buffers");
    }

    [Fact]
    public async Task The_other_hot_statements_read_few_buffers_to_plan_on_a_warm_server_connection()
    {
        var session = plans.Sessions[^2];
        var id = Uuid7.At(DateTimeOffset.UtcNow);
        // Statements are planned and not run (writes among them); mark-read is a function whose statements are
        // planned as it runs, so it runs, marking nothing (up to index -1), and its whole cost is bounded.
        var statements = new (string Name, string Sql, object?[] Args, bool Run, int Bound)[]
        {
            ("find", MessageStore.FindSql, [session.Tenant, id, Uuid7.Timestamp(id)], false, 4),
            ("sessions of a user", SessionStore.ListByUserSql, SessionStore.ListByUserArgs(session.Tenant, session.User, null, 50), false, 2),
            ("mark read", MessageStore.MarkReadSql, [session.Tenant, session.Id, -1], true, 20),
            // A user's unread messages have no session to bound them by time: every partition is planned (about 5
            // buffers each). The bound only catches it getting worse.
            ("unread", MessageStore.UnreadSql, MessageStore.UnreadArgs(session.Tenant, session.User, null, 50), false, 160),
        };
        await using var conn = await plans.OpenUnpooledAsync();
        var failures = new List<string>();
        foreach (var (name, sql, args, run, bound) in statements)
        {
            await PlanDatabase.BuffersAsync(conn, session.Tenant, sql, args, analyze: run);
            var (planning, total) = await PlanDatabase.BuffersAsync(conn, session.Tenant, sql, args, analyze: run);
            var cost = run ? total : planning;
            output.WriteLine($"{name}: {(run ? "planning and running" : "planning")} {cost} buffers");
            if (cost > bound)
                failures.Add($"{name}: {(run ? "planning and running" : "planning")} read {cost} buffers (at most {bound})");
        }
        Assert.Empty(failures);
    }

    [Fact]
    public async Task The_append_function_reads_few_buffers_to_plan_and_run_on_a_warm_server_connection()
    {
        var (session, other) = (plans.Sessions[^3], plans.Sessions[^4]);
        await using var conn = await plans.OpenUnpooledAsync();
        // The appends are rolled back: the fixture stays as the other plan tests expect it. The first call goes to
        // another session: a second update of a session row this transaction wrote would fire its foreign-key checks.
        await using var tx = await conn.BeginTransactionAsync();
        static object?[] Args((long Tenant, Guid Id, Guid User, DateTimeOffset CreatedAt) s)
        {
            var id = Uuid7.At(DateTimeOffset.UtcNow);
            return [s.Tenant, s.Id, id, Uuid7.Timestamp(id), (short)1, (short)0, "hello", null];
        }
        // The function scopes itself (migration 0026); BuffersAsync's scope statement before it changes nothing.
        var first = await PlanDatabase.BuffersAsync(conn, other.Tenant, MessageStore.AppendSql, Args(other));
        var warm = await PlanDatabase.BuffersAsync(conn, session.Tenant, MessageStore.AppendSql, Args(session));
        output.WriteLine($"append: first call {first.Total} buffers, warm {warm.Total} (planning the call {warm.Planning})");
        await tx.RollbackAsync();
        // Planning the call touches no table; the statements inside are planned (or their cached plans used) as it
        // runs, and what they read is the append itself: the session row, one partition's primary key, the insert
        // into one partition and its four indexes, the foreign-key check.
        Assert.True(warm.Planning <= 2, $"planning the append call read {warm.Planning} buffers");
        Assert.True(warm.Total <= 60, $"a warm append read {warm.Total} buffers");
    }
}
