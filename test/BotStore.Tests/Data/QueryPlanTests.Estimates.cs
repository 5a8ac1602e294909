using System.Globalization;
using System.Text.Json;
using Npgsql;
using static BotStore.Tests.Infrastructure.TestSql;

namespace BotStore.Tests.Data;

/// <summary>
/// Plans that must not depend on how large a share of a partition ANALYZE happened to sample (migration 0030).
/// </summary>
public sealed partial class QueryPlanTests
{
    // The seed's session read bounded by tenant and start, as pgbench runs it in `bench flatness` and `bench append`.
    private const string PlainHistorySql = """
        SELECT id, message_index, content FROM message_history
        WHERE tenant_id = $1 AND session_id = $2 AND created_at >= $3 ORDER BY message_index DESC LIMIT 50
        """;

    [Fact]
    public async Task A_session_is_expected_to_be_few_rows_and_read_from_idx_messages_session_alone_however_small_the_sample()
    {
        // ANALYZE samples 30,000 rows of a partition whatever its size. At 10M messages that was under 1% of a
        // partition, it counted a sixth of the sessions, and the planner, expecting 83 rows for a session of 10-15,
        // read the session through a BitmapAnd with the primary key or the BRIN index (every row of the tenant's or
        // of the month since the session's start). A partition here holds about 100,000 rows, so a sample of 300
        // (default_statistics_target = 1) is as small a share of it.
        var session = plans.Sessions[777];
        var partition = Partition(await MessagePartitionsAsync(), session.CreatedAt);
        await using var conn = await plans.OpenUnpooledAsync();
        await ExecuteAsync(conn, $"SET default_statistics_target = 1; ANALYZE {partition}");
        try
        {
            // What the planner expects of one session in the partition: ANALYZE's own count put 144 rows in it here;
            // the share migration 0030 sets, 20 (the sessions hold 10). With 4 tenants the other indexes tempt the
            // planner less than among 1,000 at 10M, so here the estimate is what fails without 0030; the plans below
            // are what it protects.
            var estimate = await ScalarAsync<string>(conn, $"EXPLAIN (FORMAT JSON) SELECT * FROM {partition} WHERE session_id = '{session.Id}'");
            using (var estimated = JsonDocument.Parse(estimate))
            {
                var rows = estimated.RootElement[0].GetProperty("Plan").GetProperty("Plan Rows").GetDouble();
                Assert.True(rows <= 2 * PlanDatabase.MessagesPerSession, $"the planner expects {rows} rows of a session of {PlanDatabase.MessagesPerSession} in {partition}");
            }
            await ExecuteAsync(conn, $"PREPARE plain_history (bigint, uuid, timestamptz) AS {PlainHistorySql.Replace('\n', ' ')}");
            var roots = await plans.IndexRootsAsync();
            foreach (var mode in new[] { "force_custom_plan", "force_generic_plan" })
            {
                await ExecuteAsync(conn, $"SET plan_cache_mode = {mode}");
                var json = await ScalarAsync<string>(conn, string.Create(CultureInfo.InvariantCulture,
                    $"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE plain_history({session.Tenant}, '{session.Id}', '{session.CreatedAt:O}')"));
                using var doc = JsonDocument.Parse(json);
                var plan = new Plan(doc.RootElement[0].GetProperty("Plan").Clone(), roots);
                var read = plan.ScansOf("message_history").Single(s => Relation(s) == partition);
                // A BitmapAnd under a bitmap heap scan has no index of its own: the access index is then none.
                Assert.True(plan.AccessIndexOf(read) == "idx_messages_session",
                    $"{mode}: {partition} is read by {read.GetProperty("Node Type").GetString()} on {plan.AccessIndexOf(read) ?? "a BitmapAnd"}:\n{plan}");
                Assert.Equal(PlanDatabase.MessagesPerSession, RowsOut(plan.Root));
            }
        }
        finally
        {
            await ExecuteAsync(conn, $"RESET default_statistics_target; ANALYZE {partition}");
        }
    }
}
