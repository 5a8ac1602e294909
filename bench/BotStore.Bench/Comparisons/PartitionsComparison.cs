using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace BotStore.Bench.Comparisons;

/// <summary>What the number of monthly partitions costs a session-history query: planning and execution time.</summary>
internal sealed class PartitionsComparison : IComparison
{
    private static readonly int[] PartitionCounts = [3, 24, 120];
    private const int MessagesPerSession = 20;
    private const int SessionsQueried = 20;

    public string Name => "partitions";

    public string Description =>
        "Three copies of message_history's shape (primary key, session index, BRIN) with 3, 24 and 120 monthly partitions up to this month, " +
        "holding the same number of 20-message sessions spread evenly over the months. The history SQL for sessions of the newest month, by " +
        "EXPLAIN ANALYZE: planning and execution time, with the created_at >= session start bound (the planner prunes older partitions) and without " +
        "it (every partition's index is probed). Ratio = against 3 partitions.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var sessions = context.Options.Quick ? 2_400 : 12_000;
        var figures = new List<Figure>();
        Dictionary<string, Sample>? baseline = null;
        foreach (var count in PartitionCounts)
        {
            BenchContext.Say($"partitions: {count} monthly partitions, {sessions * MessagesPerSession:N0} rows");
            var table = $"bench_parts_{count}";
            await CreateAsync(context, table, count, sessions, ct);
            try
            {
                var measured = await MeasureAsync(context, table, count, context.Options.Runs, ct);
                foreach (var (metric, sample) in measured)
                {
                    figures.Add(baseline is null
                        ? new Figure(Name, $"{metric}, {count} partitions", "ms", $"{count} partitions", sample)
                        : new Figure(Name, $"{metric}, {count} partitions", "ms", $"{count} partitions", sample, "3 partitions", baseline[metric]));
                }
                baseline ??= measured;
            }
            finally
            {
                await context.ExecuteAsync($"DROP TABLE IF EXISTS {table}", ct);
            }
        }
        return figures;
    }

    private static async Task CreateAsync(BenchContext context, string table, int months, int sessions, CancellationToken ct)
    {
        await context.ExecuteAsync($"DROP TABLE IF EXISTS {table}", ct);
        await context.ExecuteAsync($"CREATE TABLE {table} (LIKE message_history INCLUDING DEFAULTS, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at)", ct);
        await context.ExecuteAsync($"CREATE INDEX ON {table} (session_id, message_index)", ct);
        await context.ExecuteAsync($"CREATE INDEX ON {table} USING BRIN (created_at)", ct);
        var thisMonth = new DateTime(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var m = 0; m < months; m++)
        {
            var from = thisMonth.AddMonths(m - months + 1);
            await context.ExecuteAsync(string.Create(CultureInfo.InvariantCulture,
                $"CREATE TABLE {table}_{m} PARTITION OF {table} FOR VALUES FROM ('{from:yyyy-MM-dd}+00') TO ('{from.AddMonths(1):yyyy-MM-dd}+00')"), ct);
        }
        // Session i lives in month i % months, a minute after the previous session of its month; message j j seconds in.
        await context.ExecuteAsync($"""
            INSERT INTO {table} (tenant_id, created_at, id, session_id, user_id, message_index, role, message_type, is_read, content)
            SELECT 1, t, gen_random_uuid(), md5('s' || i)::uuid, md5('u' || (i % 500))::uuid, j, 1 + j % 2, 0, true, repeat('history ', 20)
            FROM generate_series(0, $1 - 1) AS i, generate_series(0, {MessagesPerSession - 1}) AS j,
                 LATERAL (SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => $2 - 1 - i % $2)) AT TIME ZONE 'UTC'
                                 + make_interval(mins => i / $2, secs => j) AS t) AS times
            """, ct, sessions, months);
        await context.ExecuteAsync($"ANALYZE {table}", ct);
    }

    private static async Task<Dictionary<string, Sample>> MeasureAsync(BenchContext context, string table, int months, int runs, CancellationToken ct)
    {
        var history = Workloads.HistorySql.Replace("message_history", table, StringComparison.Ordinal);
        var unbounded = history.Replace(" AND created_at >= $3", "", StringComparison.Ordinal);
        var queries = new[] { ("bounded", history), ("unbounded", unbounded) };
        var times = queries.SelectMany(q => new[] { $"planning ({q.Item1})", $"execution ({q.Item1})" }).ToDictionary(k => k, _ => new List<double>());
        await using var conn = await context.DataSource.OpenConnectionAsync(ct);
        // Sessions of the newest month (i % months == months - 1) and where each starts.
        var sessions = new List<(Guid Id, DateTimeOffset Start)>();
        foreach (var k in Enumerable.Range(0, SessionsQueried))
        {
            var id = Md5Uuid($"s{k * months + months - 1}");
            sessions.Add((id, await FirstAsync(conn, table, id, ct)));
        }
        for (var run = 0; run <= runs; run++)
        {
            foreach (var (name, sql) in queries)
            {
                double planning = 0, execution = 0;
                foreach (var (session, start) in sessions)
                {
                    await using var cmd = new NpgsqlCommand($"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", conn);
                    cmd.Parameters.Add(new NpgsqlParameter { Value = 1L });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = session });
                    if (sql.Contains("$3", StringComparison.Ordinal))
                        cmd.Parameters.Add(new NpgsqlParameter { Value = start });
                    using var plan = JsonDocument.Parse((string)(await cmd.ExecuteScalarAsync(ct))!);
                    planning += plan.RootElement[0].GetProperty("Planning Time").GetDouble();
                    execution += plan.RootElement[0].GetProperty("Execution Time").GetDouble();
                }
                // Run 0 warms the caches.
                if (run > 0)
                {
                    times[$"planning ({name})"].Add(planning / sessions.Count);
                    times[$"execution ({name})"].Add(execution / sessions.Count);
                }
            }
        }
        return times.ToDictionary(t => t.Key, t => new Sample(t.Value));
    }

    private static async Task<DateTimeOffset> FirstAsync(NpgsqlConnection conn, string table, Guid session, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT min(created_at) FROM {table} WHERE session_id = $1", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = session });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetFieldValue<DateTimeOffset>(0);
    }

    private static Guid Md5Uuid(string text) =>
        new(Convert.ToHexString(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text))));
}
