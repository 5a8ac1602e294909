using System.Collections.Concurrent;
using BotStore.Tooling.Conversion;
using Npgsql;
using Xunit.Abstractions;

namespace BotStore.Tests.Conversion;

/// <summary>The issue's acceptance test: a million-row before-<c>auto_tasks</c> converted while writers insert and update it.</summary>
public sealed class OnlineConversionTests(ITestOutputHelper output)
{
    private const int Rows = 1_000_000;
    private static readonly string[] Statuses = ["pending", "ready", "running", "paused", "waiting_approval", "completed", "failed", "cancelled"];
    private static readonly string[] Priorities = ["low", "normal", "high", "urgent", "critical"];

    [Fact]
    public async Task A_million_rows_convert_under_writers_without_loss_with_the_predicted_saving_and_bounded_lock_waits()
    {
        await using var db = await BeforeTasks.CreateAsync(Rows);
        var heapBefore = await db.CompactedHeapBytesPerRowAsync();
        await db.ExecAsync("CREATE TABLE snapshot AS SELECT id, status, priority, execution_mode FROM auto_tasks");
        var plan = (await db.Converter.PlanAsync(new ConversionOptions { Table = "auto_tasks" })).Tables.Single();
        Assert.Empty(plan.Problems);

        // Writers: each updates its own rows and inserts new ones, writing text until the swap refuses text, then numbers.
        var written = new ConcurrentDictionary<Guid, (string Status, string Priority, string Mode)>();
        var latencies = new ConcurrentBag<double>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() => WriteAsync(db.DataSource, w, written, latencies, stop.Token))).ToArray();
        var options = new ConversionOptions { Table = "auto_tasks", BatchSize = 10_000, Pause = TimeSpan.FromMilliseconds(5), LockTimeout = TimeSpan.FromSeconds(2) };
        var result = await db.Converter.ApplyAsync(options);
        await Task.Delay(300);
        await stop.CancelAsync();
        var writes = (await Task.WhenAll(writers)).Sum();
        var sorted = latencies.Order().ToArray();
        output.WriteLine($"{result}; writer statements {writes}, p99 {sorted[(int)(sorted.Length * 0.99)]:0.0} ms, max {sorted[^1]:0.0} ms; " +
            $"longest lock wait of writers (pg_locks sampling) {result.LongestLockWait.TotalMilliseconds:0} ms; lock_timeout {options.LockTimeout.TotalMilliseconds} ms");
        Assert.Equal(ConversionSteps.Swapped, result.Step);
        Assert.True(writes > 0 && written.Count > 0);
        Assert.True(result.LongestLockWait < options.LockTimeout, $"a writer waited {result.LongestLockWait} for a lock");

        // Every row's number is the catalog's number for its text; and every row is what the snapshot and the writers say.
        foreach (var (column, domain) in new[] { ("status", "task_status"), ("priority", "task_priority"), ("execution_mode", "execution_mode") })
            Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM auto_tasks WHERE {column} IS DISTINCT FROM {BeforeTasks.NumberOf(domain, column + "__text")}"));
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            await using (var create = new NpgsqlCommand("CREATE TABLE written (id uuid PRIMARY KEY, status text, priority text, execution_mode text)", conn))
                await create.ExecuteNonQueryAsync();
            await using var import = await conn.BeginBinaryImportAsync("COPY written FROM STDIN (FORMAT BINARY)");
            foreach (var (id, w) in written)
            {
                await import.StartRowAsync();
                await import.WriteAsync(id);
                await import.WriteAsync(w.Status);
                await import.WriteAsync(w.Priority);
                await import.WriteAsync(w.Mode);
            }
            await import.CompleteAsync();
        }
        Assert.Equal(0L, await db.ScalarAsync<long>($"""
            WITH expected AS (
                SELECT COALESCE(w.id, s.id) AS id, COALESCE(w.status, s.status) AS status, COALESCE(w.priority, s.priority) AS priority,
                       COALESCE(w.execution_mode, s.execution_mode) AS execution_mode
                FROM snapshot s FULL JOIN written w USING (id)),
            actual AS (
                SELECT id, {BeforeTasks.NameOf("task_status", "status")} AS status, {BeforeTasks.NameOf("task_priority", "priority")} AS priority,
                       {BeforeTasks.NameOf("execution_mode", "execution_mode")} AS execution_mode FROM auto_tasks)
            SELECT count(*) FROM ((SELECT * FROM expected EXCEPT SELECT * FROM actual) UNION ALL (SELECT * FROM actual EXCEPT SELECT * FROM expected)) d
            """));

        var index = await db.ScalarAsync<string>("SELECT pg_get_indexdef('idx_tasks_active'::regclass) || ' ' || indisvalid FROM pg_index WHERE indexrelid = 'idx_tasks_active'::regclass");
        Assert.Equal("CREATE INDEX idx_tasks_active ON public.auto_tasks USING btree (status, priority) WHERE (status <> ALL (ARRAY[5, 6, 7])) true", index);

        // The heap, rewritten without the dropped text (VACUUM FULL), is smaller by what plan predicted, within 10%.
        await db.Converter.FinishAsync("auto_tasks");
        var heapAfter = await db.CompactedHeapBytesPerRowAsync();
        output.WriteLine($"heap per row {heapBefore:0.0} B before, {heapAfter:0.0} B after: saved {heapBefore - heapAfter:0.0} B/row; plan predicted {plan.SavingPerRow:0.0} B/row");
        Assert.InRange(heapBefore - heapAfter, plan.SavingPerRow!.Value * 0.9, plan.SavingPerRow.Value * 1.1);
    }

    private static async Task<long> WriteAsync(NpgsqlDataSource dataSource, int writer, ConcurrentDictionary<Guid, (string, string, string)> written,
        ConcurrentBag<double> latencies, CancellationToken stop)
    {
        var random = new Random(writer);
        var numbers = false;
        long count = 0;
        await using var conn = await dataSource.OpenConnectionAsync(CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            // Writer w updates rows whose index is w mod 3 among the first 30000: no two writers touch the same row.
            var insert = random.Next(2) == 0;
            var id = insert ? Guid.NewGuid() : Guid.Parse(System.Convert.ToHexString(System.Security.Cryptography.MD5.HashData(
                System.Text.Encoding.ASCII.GetBytes((1 + writer + 3 * random.Next(10_000)).ToString(System.Globalization.CultureInfo.InvariantCulture)))));
            var (s, p) = (random.Next(Statuses.Length), random.Next(Priorities.Length));
            var sql = insert
                ? $"INSERT INTO auto_tasks (id, status, priority, execution_mode) VALUES ($1, $2, $3, {(numbers ? "2" : "'autonomous'")})"
                : "UPDATE auto_tasks SET status = $2, priority = $3 WHERE id = $1";
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await using var cmd = new NpgsqlCommand(sql, conn);
                cmd.Parameters.Add(new NpgsqlParameter { Value = id });
                cmd.Parameters.Add(numbers ? new NpgsqlParameter { Value = (short)s } : new NpgsqlParameter { Value = Statuses[s] });
                cmd.Parameters.Add(numbers ? new NpgsqlParameter { Value = (short)p } : new NpgsqlParameter { Value = Priorities[p] });
                await cmd.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (PostgresException ex) when (!numbers && ex.SqlState is PostgresErrorCodes.DatatypeMismatch or PostgresErrorCodes.InvalidTextRepresentation)
            {
                // The swap happened: this application now writes numbers (what docs/conversion.md asks of it).
                numbers = true;
                continue;
            }
            latencies.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            count++;
            var mode = insert ? "autonomous" : written.TryGetValue(id, out var before) ? before.Item3 : null;
            if (mode is null)
            {
                // An update of a snapshot row: the mode stays the snapshot's; record the row as written with it looked up later.
                await using var read = new NpgsqlCommand("SELECT execution_mode::text FROM auto_tasks WHERE id = $1", conn);
                read.Parameters.Add(new NpgsqlParameter { Value = id });
                var m = (string)(await read.ExecuteScalarAsync(CancellationToken.None))!;
                mode = short.TryParse(m, out var n) ? new[] { "manual", "supervised", "autonomous" }[n] : m;
            }
            written[id] = (Statuses[s], Priorities[p], mode);
        }
        return count;
    }
}
