using System.Globalization;
using BotStore.Enums;
using BotStore.Tooling.Conversion;
using Npgsql;

namespace BotStore.Bench.Comparisons;

/// <summary>
/// Issue 12's benchmark: <c>botstore convert apply</c> on the design source's before-<c>auto_tasks</c> while writers
/// keep writing, against the fastest way PostgreSQL converts the same table: one offline <c>ALTER TABLE ... TYPE
/// smallint USING ...</c>, which rewrites the table once under ACCESS EXCLUSIVE (writers wait for all of it).
/// </summary>
internal sealed class ConvertComparison : IComparison
{
    private const int Writers = 4;

    // The design source's "before" table: three enum columns as text with its CHECK and a partial index on the open statuses.
    private const string BeforeDdl = """
        CREATE TABLE {0} (
            id UUID PRIMARY KEY,
            status VARCHAR(50) NOT NULL DEFAULT 'pending',
            priority VARCHAR(20) NOT NULL DEFAULT 'normal',
            execution_mode VARCHAR(50) NOT NULL DEFAULT 'supervised',
            title TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT {0}_check_status CHECK (status IN ('pending', 'ready', 'running', 'paused', 'waiting_approval', 'completed', 'failed', 'cancelled'))
        );
        CREATE INDEX {0}_active ON {0} (status, priority) WHERE status NOT IN ('completed', 'failed', 'cancelled');
        """;

    private static readonly (string Column, string Domain)[] Columns =
        [("status", "task_status"), ("priority", "task_priority"), ("execution_mode", "execution_mode")];

    private static readonly string[] Statuses = Names("task_status");
    private static readonly string[] Priorities = Names("task_priority");

    public string Name => "convert";

    public string Description =>
        "The design source's before-auto_tasks (status, priority and execution_mode as VARCHAR with its CHECK and a partial index on the open " +
        "statuses), --messages rows, converted to SMALLINT by `convert apply` (EnumConverter, default batch size and pause) while " + Writers +
        " writers insert and update rows with text values (numbers after the swap), against the same table converted offline by one " +
        "ALTER TABLE ... TYPE smallint USING CASE ... (one rewrite under ACCESS EXCLUSIVE; CHECK and partial index re-created): the fastest " +
        "PostgreSQL does it, while every writer waits. Throughput = rows / wall time; writers' p99 during apply against the same writers on the " +
        "unconverted table before it; the longest lock wait of a writer (pg_locks sampling) against the offline rewrite's lock time; heap bytes " +
        "saved per row (VACUUM FULL before and after) against what `convert plan` predicted.";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchContext context, CancellationToken ct)
    {
        var rows = Math.Max(10_000, context.Options.Messages);
        var figures = new List<Figure>();

        // The yardstick first, on a table of its own built the same way.
        await CreateAsync(context, "bench_convert_offline", rows, ct);
        var offline = await OfflineAsync(context, "bench_convert_offline", ct);
        await context.ExecuteAsync("DROP TABLE bench_convert_offline", ct);

        await CreateAsync(context, "bench_convert", rows, ct);
        var heapBefore = await context.ScalarAsync<long>("SELECT pg_relation_size('bench_convert')", ct) / (double)rows;
        var converter = new EnumConverter(context.DataSource);
        var plan = (await converter.PlanAsync(new ConversionOptions { Table = "bench_convert" }, ct)).Tables.Single();

        // The writers alone, then the writers while apply runs.
        var seconds = TimeSpan.FromSeconds(Math.Max(5, context.Options.Seconds * 3));
        var alone = await WriteAsync(context, rows, seconds, null, ct);
        BenchContext.Say($"convert: writers alone: {alone.Throughput:N0} writes/s, p99 {alone.P99 / 1000:0.0} ms; converting {rows:N0} rows online...");
        var options = new ConversionOptions { Table = "bench_convert" };
        ConversionResult? result = null;
        var during = await WriteAsync(context, rows, TimeSpan.FromDays(1), async () => result = await converter.ApplyAsync(options, null, ct), ct);
        var online = result!;

        await converter.FinishAsync("bench_convert", null, ct);
        var rowsAfter = await context.ScalarAsync<long>("SELECT count(*) FROM bench_convert", ct);
        await context.ExecuteAsync("VACUUM FULL bench_convert", ct);
        var heapAfter = await context.ScalarAsync<long>("SELECT pg_relation_size('bench_convert')", ct) / (double)rowsAfter;
        await context.ExecuteAsync("DROP TABLE bench_convert", ct);

        var size = $"{rows:N0} rows";
        figures.Add(new Figure(Name, $"convert {size}", "rows/s", "convert apply (online)", Sample.Of(online.RowsBackfilled / online.Elapsed.TotalSeconds),
            "ALTER TABLE rewrite (offline)", Sample.Of(rows / offline.TotalSeconds),
            Note: $"apply took {online.Elapsed.TotalSeconds:0.0} s ({online.RowsBackfilled:N0} rows backfilled, batches of {options.BatchSize:N0}, " +
                  $"pause {options.Pause.TotalMilliseconds:0} ms, {online.LockRetries} lock retries); the rewrite {offline.TotalSeconds:0.0} s; one run each"));
        figures.Add(new Figure(Name, "writers' p99 during conversion", "ms", "during apply", Sample.Of(during.P99 / 1000),
            "without a conversion", Sample.Of(alone.P99 / 1000),
            Note: $"{Writers} writers, half inserts, half updates of random rows; {during.LatencyMicros.Length:N0} writes during apply " +
                  $"({during.Throughput:N0}/s) against {alone.LatencyMicros.Length:N0} in {seconds.TotalSeconds:0} s alone ({alone.Throughput:N0}/s); " +
                  $"p50 {during.P50 / 1000:0.00} ms against {alone.P50 / 1000:0.00} ms"));
        figures.Add(new Figure(Name, "longest lock wait of a writer", "ms", "convert apply", Sample.Of(online.LongestLockWait.TotalMilliseconds),
            "ALTER TABLE rewrite", Sample.Of(offline.TotalMilliseconds),
            Note: $"apply's lock_timeout {options.LockTimeout.TotalMilliseconds:0} ms; the rewrite holds ACCESS EXCLUSIVE for its whole run"));
        figures.Add(new Figure(Name, "heap bytes saved per row", "B", "measured", Sample.Of(heapBefore - heapAfter),
            "convert plan predicted", Sample.Of(plan.SavingPerRow ?? 0),
            Note: $"heap {heapBefore:0.0} B/row before, {heapAfter:0.0} B/row after (VACUUM FULL both); {heapBefore - heapAfter:0.0} GB per billion rows"));
        return figures;
    }

    private static async Task CreateAsync(BenchContext context, string table, long rows, CancellationToken ct)
    {
        BenchContext.Say($"convert: building {table} with {rows:N0} rows...");
        await context.ExecuteAsync($"DROP TABLE IF EXISTS {table}", ct);
        await context.ExecuteAsync(string.Format(CultureInfo.InvariantCulture, BeforeDdl, table), ct);
        await context.ExecuteAsync($"""
            INSERT INTO {table} (id, status, priority, execution_mode, title)
            SELECT md5(i::text)::uuid,
                   (ARRAY[{Quoted(Statuses)}])[1 + i % {Statuses.Length}],
                   (ARRAY[{Quoted(Priorities)}])[1 + i % {Priorities.Length}],
                   (ARRAY['manual', 'supervised', 'autonomous'])[1 + i % 3],
                   'task ' || i
            FROM generate_series(1, {rows}) AS i
            """, ct);
        await context.ExecuteAsync($"VACUUM FULL {table}", ct);
        await context.ExecuteAsync($"ANALYZE {table}", ct);
    }

    // The offline way: drop what refers to the text, rewrite the three columns in one ALTER TABLE, re-create them.
    private static async Task<TimeSpan> OfflineAsync(BenchContext context, string table, CancellationToken ct)
    {
        var alters = string.Join(", ", Columns.Select(c =>
            $"ALTER COLUMN {c.Column} DROP DEFAULT, ALTER COLUMN {c.Column} TYPE smallint USING {NumberOf(c.Domain, c.Column)}"));
        var defaults = string.Join(", ", Columns.Select(c => (c.Column, Default: c.Column switch
        {
            "status" => Number("task_status", "pending"),
            "priority" => Number("task_priority", "normal"),
            _ => Number("execution_mode", "supervised"),
        })).Select(c => $"ALTER COLUMN {c.Column} SET DEFAULT {c.Default}"));
        var closed = string.Join(", ", new[] { "completed", "failed", "cancelled" }.Select(s => Number("task_status", s)));
        var started = System.Diagnostics.Stopwatch.StartNew();
        await context.ExecuteAsync($"""
            BEGIN;
            ALTER TABLE {table} DROP CONSTRAINT {table}_check_status;
            DROP INDEX {table}_active;
            ALTER TABLE {table} {alters}, {defaults};
            ALTER TABLE {table} ADD CONSTRAINT {table}_check_status CHECK (status BETWEEN 0 AND {Statuses.Length - 1});
            CREATE INDEX {table}_active ON {table} (status, priority) WHERE status NOT IN ({closed});
            COMMIT;
            """, ct);
        return started.Elapsed;
    }

    // Writers as an application still on text: half inserts, half updates of random rows; after the swap refuses
    // text they write numbers, as docs/conversion.md asks of applications. With work, they write until it ends.
    private static async Task<LoadRun> WriteAsync(BenchContext context, long rows, TimeSpan duration, Func<Task>? work, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < Writers; i++)
                connections.Add(await context.DataSource.OpenConnectionAsync(ct));
            var load = LoadRun.ClientsAsync(Writers, duration, w => Task.FromResult(Writer(connections[w], w, rows)), stop.Token);
            if (work is not null)
            {
                try
                {
                    await work();
                }
                finally
                {
                    await stop.CancelAsync();
                }
            }
            return await load;
        }
        finally
        {
            foreach (var conn in connections)
                await conn.DisposeAsync();
        }
    }

    private static Func<Task> Writer(NpgsqlConnection conn, int writer, long rows)
    {
        var random = new Random(writer);
        var numbers = false;
        return async () =>
        {
            var insert = random.Next(2) == 0;
            var (s, p) = (random.Next(Statuses.Length), random.Next(Priorities.Length));
            await using var cmd = new NpgsqlCommand(insert
                ? $"INSERT INTO bench_convert (id, status, priority, title) VALUES (gen_random_uuid(), $1, $2, 'written')"
                : "UPDATE bench_convert SET status = $1, priority = $2 WHERE id = md5($3::text)::uuid", conn);
            cmd.Parameters.Add(numbers ? new NpgsqlParameter { Value = (short)s } : new NpgsqlParameter { Value = Statuses[s] });
            cmd.Parameters.Add(numbers ? new NpgsqlParameter { Value = (short)p } : new NpgsqlParameter { Value = Priorities[p] });
            if (!insert)
                cmd.Parameters.Add(new NpgsqlParameter { Value = 1 + random.NextInt64(rows) });
            try
            {
                await cmd.ExecuteNonQueryAsync();
            }
            catch (PostgresException ex) when (!numbers && ex.SqlState is PostgresErrorCodes.DatatypeMismatch or PostgresErrorCodes.InvalidTextRepresentation)
            {
                numbers = true; // the swap: this application now writes numbers
            }
        };
    }

    private static string[] Names(string domain) => EnumCatalog.Named(domain).Entries.OrderBy(e => e.Value).Select(e => e.Name).ToArray();

    private static string Quoted(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    private static string Number(string domain, string name) =>
        EnumCatalog.Named(domain).Entries.Single(e => e.Name == name).Value.ToString(CultureInfo.InvariantCulture);

    private static string NumberOf(string domain, string column) =>
        $"CASE {column} {string.Concat(EnumCatalog.Named(domain).Entries.Select(e => $"WHEN '{e.Name}' THEN {e.Value} "))}END";
}
