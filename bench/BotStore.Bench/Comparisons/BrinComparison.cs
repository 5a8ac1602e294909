using System.Diagnostics;
using Npgsql;

namespace BotStore.Bench.Comparisons;

/// <summary>The seed's BRIN index on message_history.created_at against a B-tree on the same column: size and a one-day query.</summary>
internal sealed class BrinComparison : IComparison
{
    private const string DayQuery = """
        SELECT role, count(*), max(message_index) FROM message_history WHERE created_at >= $1 AND created_at < $1 + interval '1 day' GROUP BY role
        """;

    public string Name => "brin";

    public string Description =>
        "idx_messages_created_brin (all partitions) against a B-tree built on message_history (created_at) for the comparison: index size, and the " +
        "time of a one-day range query (rows by role of the middle day) with only the BRIN, then only the B-tree (the BRIN dropped inside a rolled-back " +
        "transaction). Ratio = BRIN / B-tree. loadgen writes day by day, so the heap is in time order as production's is.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        await context.EnsureMessagesAsync(context.Options.Messages, ct);
        var brinBytes = await IndexBytesAsync(context, "idx_messages_created_brin", ct);
        var build = Stopwatch.StartNew();
        await context.ExecuteAsync("DROP INDEX IF EXISTS bench_messages_created_btree", ct);
        await context.ExecuteAsync("CREATE INDEX bench_messages_created_btree ON message_history (created_at)", ct);
        build.Stop();
        try
        {
            var btreeBytes = await IndexBytesAsync(context, "bench_messages_created_btree", ct);
            var day = await context.ScalarAsync<DateTime>(
                "SELECT date_trunc('day', min(created_at) + (max(created_at) - min(created_at)) / 2) FROM message_history", ct);
            var from = new DateTimeOffset(DateTime.SpecifyKind(day, DateTimeKind.Utc));

            await using var conn = await context.DataSource.OpenConnectionAsync(ct);
            var (btree, btreePlan, rows) = await TimeAsync(conn, from, "idx_messages_created_brin", context.Options.Runs, ct);
            await context.ExecuteAsync("DROP INDEX bench_messages_created_btree", ct);
            var (brin, brinPlan, _) = await TimeAsync(conn, from, null, context.Options.Runs, ct);
            return
            [
                new Figure(Name, "created_at index size", "MB", "BRIN", Sample.Of(brinBytes / 1048576.0), "B-tree", Sample.Of(btreeBytes / 1048576.0),
                    Note: $"B-tree build {build.Elapsed.TotalSeconds:0.0} s"),
                new Figure(Name, "one-day range query", "ms", "BRIN", brin, "B-tree", btree,
                    Note: $"{rows:N0} rows that day; plans: BRIN {brinPlan}; B-tree {btreePlan}"),
            ];
        }
        finally
        {
            await context.ExecuteAsync("DROP INDEX IF EXISTS bench_messages_created_btree", ct);
        }
    }

    private static Task<long> IndexBytesAsync(BenchContext context, string index, CancellationToken ct) =>
        context.ScalarAsync<long>($"SELECT COALESCE(sum(pg_relation_size(relid)), 0)::bigint FROM pg_partition_tree('{index}')", ct);

    /// <summary>Runs the query (after one warm-up) with <paramref name="drop"/> dropped in a transaction that is rolled back.</summary>
    private static async Task<(Sample Ms, string Plan, long Rows)> TimeAsync(NpgsqlConnection conn, DateTimeOffset from, string? drop, int runs, CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (drop is not null)
            await new NpgsqlCommand($"DROP INDEX {drop}", conn, tx).ExecuteNonQueryAsync(ct);
        var explain = new NpgsqlCommand("EXPLAIN (COSTS OFF) " + DayQuery, conn, tx);
        explain.Parameters.Add(new NpgsqlParameter { Value = from });
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                plan.Add(reader.GetString(0));
        }
        var times = new List<double>();
        long rows = 0;
        for (var run = 0; run <= runs; run++)
        {
            await using var cmd = new NpgsqlCommand(DayQuery, conn, tx);
            cmd.Parameters.Add(new NpgsqlParameter { Value = from });
            var clock = Stopwatch.StartNew();
            rows = 0;
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                    rows += reader.GetInt64(1);
            }
            if (run > 0)
                times.Add(clock.Elapsed.TotalMilliseconds);
        }
        await tx.RollbackAsync(ct);
        return (new Sample(times), Summarise(plan), rows);
    }

    /// <summary>The scan nodes of a plan, counted: e.g. "3 × Bitmap Index Scan, 3 × Bitmap Heap Scan".</summary>
    private static string Summarise(IEnumerable<string> plan) => string.Join(", ", plan
        .Select(l => l.Trim().TrimStart('-', '>', ' '))
        .Select(l => l.Split(" on ")[0])
        .Where(l => l.Contains("Scan", StringComparison.Ordinal))
        .GroupBy(l => l)
        .Select(g => $"{g.Count()} × {g.Key}"));
}
