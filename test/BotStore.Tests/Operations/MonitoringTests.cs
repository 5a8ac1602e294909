using BotStore.Monitoring;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Operations;

/// <summary>The monitoring reports return real rows on a database that has run queries.</summary>
public sealed class MonitoringTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    private DatabaseReports Reports => new(db.DataSource);

    [Fact]
    public async Task Index_report_counts_real_scans_and_flags_unused_redundant_and_invalid_indexes()
    {
        var session = await SampleRows.CreateConversationAsync(db);
        await MessagesAsync(db.DataSource, session, 0, 30);
        await db.ExecuteAsync("ANALYZE message_history");
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            // A few rows would be read by a sequential scan; this test wants the index used.
            await using var noSeqScan = new NpgsqlCommand("SET enable_seqscan = off", conn);
            await noSeqScan.ExecuteNonQueryAsync();
            for (var i = 0; i < 10; i++)
            {
                await using var query = new NpgsqlCommand("SELECT count(*) FROM message_history WHERE session_id = $1 AND message_index < 5", conn);
                query.Parameters.Add(new NpgsqlParameter { Value = session.SessionId });
                Assert.Equal(5L, await query.ExecuteScalarAsync());
            }
            await using var reset = new NpgsqlCommand("RESET enable_seqscan", conn);
            await reset.ExecuteNonQueryAsync();
        }
        // The seed's idx_sessions_user, which migration 0028 drops for idx_sessions_covering: the report flags it.
        await db.ExecuteAsync("CREATE INDEX monitoring_sessions_user ON user_sessions (user_id, created_at DESC)");
        await db.ExecuteAsync("CREATE TABLE invalid_probe (x INT)");
        await db.ExecuteAsync("INSERT INTO invalid_probe VALUES (1), (1)");
        await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync("CREATE UNIQUE INDEX CONCURRENTLY invalid_probe_x ON invalid_probe (x)"));

        Assert.True(await EventuallyAsync(async () => (await Reports.IndexesAsync()).Single(i => i.Name == "idx_messages_session").Scans >= 10));
        var report = await Reports.IndexesAsync();

        var session_index = report.Single(i => i.Name == "idx_messages_session");
        Assert.Equal("message_history", session_index.Table);
        Assert.True(session_index.Partitions >= 5);
        Assert.True(session_index.Bytes > 0);
        Assert.False(session_index.IsUnused);
        Assert.Equal("idx_sessions_covering", report.Single(i => i.Name == "monitoring_sessions_user").RedundantWith);
        Assert.Null(report.Single(i => i.Name == "idx_sessions_covering").RedundantWith);
        Assert.True(report.Single(i => i.Name == "idx_tasks_status").IsUnused);
        Assert.False(report.Single(i => i.Name == "tenants_pkey").IsUnused);
        Assert.False(report.Single(i => i.Name == "invalid_probe_x").IsValid);
    }

    [Fact]
    public async Task Slow_query_report_reads_pg_stat_statements_for_this_database()
    {
        for (var i = 0; i < 12; i++)
            await db.ScalarAsync<long>("SELECT count(*) FROM user_sessions WHERE channel = $1 AND title IS NULL", (short)i);

        var report = await Reports.SlowQueriesAsync(100, QueryOrder.Calls);

        Assert.True(report.Available, report.Unavailable);
        var ours = Assert.Single(report.Queries, q => q.Query.Contains("FROM user_sessions WHERE channel = $1 AND title IS NULL", StringComparison.Ordinal));
        Assert.Equal(12, ours.Calls);
        Assert.True(ours.TotalMs > 0 && ours.MeanMs > 0);
        Assert.True(ours.StddevMs >= 0 && ours.MeanMs <= ours.ApproxP95Ms && ours.ApproxP95Ms <= ours.MaxMs,
            $"mean {ours.MeanMs}, stddev {ours.StddevMs}, ~p95 {ours.ApproxP95Ms}, max {ours.MaxMs}");
        Assert.Equal(12, ours.Rows);
    }

    [Fact]
    public async Task Table_and_vacuum_reports_show_sizes_estimated_bloat_and_vacuum_times()
    {
        // One connection, its pending statistics flushed before VACUUM: a backend sends its row counts up to a
        // second after it goes idle, and a late flush from another pooled connection would land on top of what
        // VACUUM reported and make the live-row count wrong.
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            foreach (var sql in new[]
                     {
                         "CREATE TABLE bloat_probe (id BIGINT, pad TEXT)",
                         "INSERT INTO bloat_probe SELECT g, repeat('x', 60) FROM generate_series(1, 20000) g",
                         "DELETE FROM bloat_probe WHERE id % 10 <> 0",
                         "SELECT pg_stat_force_next_flush()",
                         "SELECT pg_sleep(0.1)",
                         "VACUUM ANALYZE bloat_probe",
                     })
            {
                await using var cmd = new NpgsqlCommand(sql, conn);
                await cmd.ExecuteNonQueryAsync();
            }
        }
        await EventsAsync(db.DataSource, 1, 10);
        await db.ExecuteAsync("ANALYZE analytics_events");

        var tables = await Reports.TablesAsync();

        var probe = tables.Single(t => t.Name == "bloat_probe");
        Assert.Equal("table", probe.Kind);
        Assert.Equal(2000, probe.EstimatedRows);
        Assert.True(probe.HeapBytes > 0 && probe.TotalBytes >= probe.HeapBytes);
        Assert.True(probe.BloatRatio > 0.7, $"bloat {probe.BloatRatio}");
        var events = tables.Single(t => t.Name == "analytics_events");
        Assert.Equal("partitioned", events.Kind);
        Assert.True(events.Partitions >= 5);
        Assert.Equal(tables.Where(t => t.Parent == "analytics_events").Sum(t => t.TotalBytes), events.TotalBytes);
        Assert.Equal(10, tables.Single(t => t.Name == Partition("analytics_events", 1)).EstimatedRows);

        Assert.True(await EventuallyAsync(async () => (await Reports.VacuumAsync()).Single(v => v.Table == "bloat_probe").LastVacuum is not null));
        var vacuum = (await Reports.VacuumAsync()).Single(v => v.Table == "bloat_probe");
        Assert.Equal(2000, vacuum.LiveRows);
        Assert.NotNull(vacuum.LastAnalyze);
        Assert.True(vacuum.XidAge > 0);
        Assert.Null((await Reports.VacuumAsync()).Single(v => v.Table == "analytics_events").XidAge);
    }

    [Fact]
    public async Task Connection_and_partition_reports_describe_the_live_server()
    {
        await using var idle = await db.DataSource.OpenConnectionAsync();

        var connections = await Reports.ConnectionsAsync();
        Assert.Equal(int.Parse(await db.ScalarAsync<string>("SHOW max_connections"), System.Globalization.CultureInfo.InvariantCulture), connections.MaxConnections);
        Assert.Contains(connections.Groups, g => g.Database == db.Name && g.State == "active");
        Assert.True(connections.Total >= 2);

        var partitions = await Reports.PartitionsAsync();
        Assert.Equal(["analytics_events", "message_history"], partitions.Select(p => p.Table));
        Assert.All(partitions, p => Assert.True(p.RunwayMonths >= 4));
        Assert.All(partitions, p => Assert.Equal(0, p.DefaultRows));
    }

    [Fact]
    public async Task Explain_analyzes_a_delete_and_rolls_it_back_and_refuses_a_second_statement()
    {
        await db.ExecuteAsync("INSERT INTO tenants (name) SELECT 'explain ' || g FROM generate_series(1, 5) g");
        var count = await db.ScalarAsync<long>("SELECT count(*) FROM tenants");

        var plan = await ExplainAnalyze.RunAsync(db.DataSource, "DELETE FROM tenants WHERE name LIKE 'explain %';");

        Assert.Contains(plan, l => l.StartsWith("Delete on tenants", StringComparison.Ordinal) && l.Contains("actual time", StringComparison.Ordinal));
        Assert.Contains(plan, l => l.Contains("Buffers:", StringComparison.Ordinal));
        Assert.Equal(count, await db.ScalarAsync<long>("SELECT count(*) FROM tenants"));
        var smuggled = await Assert.ThrowsAsync<BotStoreValidationException>(() =>
            ExplainAnalyze.RunAsync(db.DataSource, "SELECT 1; COMMIT; DELETE FROM tenants"));
        Assert.Contains("multiple commands", smuggled.Message);
        Assert.Equal(count, await db.ScalarAsync<long>("SELECT count(*) FROM tenants"));
        await Assert.ThrowsAsync<BotStoreValidationException>(() => ExplainAnalyze.RunAsync(db.DataSource, "  ;"));
    }
}
