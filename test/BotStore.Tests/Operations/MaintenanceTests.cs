using BotStore.Internal;
using BotStore.Maintenance;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Operations;

/// <summary>The seed's maintenance tasks on a real database: what each plans, what it changes, and what it never touches.</summary>
public sealed class MaintenanceTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Cluster_rewrites_closed_partitions_once_and_never_touches_the_current_month()
    {
        var session = await SampleRows.CreateConversationAsync(db);
        var closed = Partition("message_history", -2);
        var current = Partition("message_history", 0);
        await db.ExecuteAsync("SELECT create_monthly_partition('message_history', $1)", DateOnly.FromDateTime(Month(-2).UtcDateTime));
        await MessagesAsync(db.DataSource, session, -2, 200, shuffledIndexes: true);
        await MessagesAsync(db.DataSource, session, 0, 50, shuffledIndexes: true);
        await MessagesAsync(db.DataSource, session, 30, 5);
        var before = await FileNodesAsync();
        var runner = new MaintenanceRunner(db.DataSource);

        var result = await runner.RunAsync(MaintenanceTask.Cluster);

        Assert.Equal(MaintenanceOutcome.Succeeded, result.Outcome);
        var step = Assert.Single(result.Steps);
        Assert.Equal(closed, step.Target);
        Assert.StartsWith($"CLUSTER \"{closed}\" USING ", step.Statement, StringComparison.Ordinal);
        var after = await FileNodesAsync();
        Assert.NotEqual(before[closed], after[closed]);
        foreach (var untouched in before.Keys.Where(k => k != closed))
            Assert.Equal(before[untouched], after[untouched]);
        // Rows now sit in index order: physical order follows message_index.
        Assert.True(await db.ScalarAsync<bool>($"""
            SELECT bool_and(ix = n) FROM (SELECT message_index AS ix, row_number() OVER (ORDER BY ctid) - 1 AS n FROM {closed}) o
            """));

        Assert.Empty((await runner.RunAsync(MaintenanceTask.Cluster)).Steps);
        var refused = await Assert.ThrowsAsync<BotStoreValidationException>(() => runner.RunAsync(MaintenanceTask.Cluster, current));
        Assert.Contains("clusters only closed partitions", refused.Message);
        await Assert.ThrowsAsync<BotStoreValidationException>(() => runner.RunAsync(MaintenanceTask.Cluster, "message_history_default"));
        Assert.Equal(before[current], (await FileNodesAsync())[current]);
    }

    [Fact]
    public async Task Reindex_rebuilds_only_indexes_whose_measured_bloat_passes_the_threshold()
    {
        await db.ExecuteAsync("CREATE TABLE reindex_probe (id BIGINT PRIMARY KEY, pad TEXT)");
        await db.ExecuteAsync("CREATE TABLE reindex_fresh (id BIGINT PRIMARY KEY, pad TEXT)");
        await db.ExecuteAsync("INSERT INTO reindex_probe SELECT g, 'x' FROM generate_series(1, 50000) g");
        await db.ExecuteAsync("INSERT INTO reindex_fresh SELECT g, 'x' FROM generate_series(1, 50000) g");
        await db.ExecuteAsync("DELETE FROM reindex_probe WHERE id % 10 <> 0");
        await db.ExecuteAsync("VACUUM ANALYZE reindex_probe");
        await db.ExecuteAsync("VACUUM ANALYZE reindex_fresh");
        var options = new MaintenanceOptions { ReindexMinBytes = 0, ReindexBloatThreshold = 0.5 };

        foreach (var method in new[] { IndexBloatMethod.PgStatIndex, IndexBloatMethod.Statistics })
        {
            var runner = new MaintenanceRunner(db.DataSource, options with { BloatMethod = method });
            Assert.Equal(["reindex_probe_pkey"], (await runner.PlanAsync(MaintenanceTask.Reindex, "reindex_probe")).Select(s => s.Target));
            Assert.Empty(await runner.PlanAsync(MaintenanceTask.Reindex, "reindex_fresh"));
        }
        var node = await db.ScalarAsync<long>("SELECT relfilenode::bigint FROM pg_class WHERE relname = 'reindex_probe_pkey'");

        var result = await new MaintenanceRunner(db.DataSource, options).RunAsync(MaintenanceTask.Reindex, "reindex_probe");

        var step = Assert.Single(result.Steps);
        Assert.Equal(MaintenanceOutcome.Succeeded, step.Outcome);
        Assert.Equal("REINDEX INDEX CONCURRENTLY \"reindex_probe_pkey\"", step.Statement);
        Assert.Contains("pgstatindex", step.Reason);
        Assert.NotEqual(node, await db.ScalarAsync<long>("SELECT relfilenode::bigint FROM pg_class WHERE relname = 'reindex_probe_pkey'"));
        Assert.True(await db.ScalarAsync<double>("SELECT avg_leaf_density FROM pgstatindex('reindex_probe_pkey')") > 80);
        Assert.Empty(await new MaintenanceRunner(db.DataSource, options).PlanAsync(MaintenanceTask.Reindex, "reindex_probe"));
    }

    [Fact]
    public async Task Analyze_covers_the_partitioned_parents_autovacuum_never_analyzes()
    {
        var runner = new MaintenanceRunner(db.DataSource);
        var plan = await runner.PlanAsync(MaintenanceTask.Analyze);
        Assert.Equal(["analytics_events", "message_history"], plan.Take(2).Select(s => s.Target));
        Assert.Contains(plan, s => s.Target == "tenants");
        Assert.DoesNotContain(plan, s => s.Target.StartsWith("message_history_", StringComparison.Ordinal));

        var result = await runner.RunAsync(MaintenanceTask.Analyze);

        Assert.Equal(MaintenanceOutcome.Succeeded, result.Outcome);
        Assert.All(result.Steps, s => Assert.Equal(MaintenanceOutcome.Succeeded, s.Outcome));
        Assert.True(await EventuallyAsync(() => db.ScalarAsync<bool>("SELECT pg_stat_get_last_analyze_time('message_history'::regclass) IS NOT NULL")));
    }

    [Fact]
    public async Task Vacuum_runs_on_the_chosen_table_and_history_shows_the_run_and_its_steps()
    {
        var runner = new MaintenanceRunner(db.DataSource, new MaintenanceOptions { VacuumTables = ["tenants"] });
        Assert.Empty(await new MaintenanceRunner(db.DataSource).PlanAsync(MaintenanceTask.Vacuum));

        var result = await runner.RunAsync(MaintenanceTask.Vacuum);

        Assert.Equal("VACUUM (ANALYZE) \"tenants\"", Assert.Single(result.Steps).Statement);
        Assert.True(await EventuallyAsync(() => db.ScalarAsync<bool>("SELECT pg_stat_get_last_vacuum_time('tenants'::regclass) IS NOT NULL")));
        var history = await runner.HistoryAsync(1, "vacuum");
        Assert.Equal(result.RunId, history[0].Id);
        Assert.Equal(MaintenanceOutcome.Succeeded, history[0].Outcome);
        Assert.NotNull(history[0].FinishedAt);
        Assert.Equal("tenants", Assert.Single(history, h => h.RunId == result.RunId).Target);
        Assert.Contains(await runner.LastRunsAsync(), r => r.Task == "vacuum" && r.Id == result.RunId);
        await Assert.ThrowsAsync<BotStoreValidationException>(() => runner.RunAsync(MaintenanceTask.Vacuum, "no_such_table"));
    }

    [Fact]
    public async Task A_second_runner_skips_while_one_holds_the_lock_and_a_spent_budget_starts_no_step()
    {
        await using (var holder = await db.DataSource.OpenConnectionAsync())
        {
            await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({RunnerLock.Maintenance})", holder))
                await take.ExecuteNonQueryAsync();
            var runs = await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_runs");
            var skipped = await new MaintenanceRunner(db.DataSource).RunAsync(MaintenanceTask.Analyze);
            Assert.Equal(MaintenanceOutcome.Skipped, skipped.Outcome);
            Assert.Null(skipped.RunId);
            Assert.Equal(runs, await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_runs"));
            // A pooled connection keeps its session, and the lock with it, until it is reset: release it.
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({RunnerLock.Maintenance})", holder);
            await release.ExecuteNonQueryAsync();
        }

        var spent = await new MaintenanceRunner(db.DataSource, new MaintenanceOptions { TimeBudget = TimeSpan.FromTicks(1) }).RunAsync(MaintenanceTask.Analyze);
        Assert.NotEmpty(spent.Steps);
        Assert.All(spent.Steps, s => Assert.Equal(MaintenanceOutcome.Skipped, s.Outcome));
        Assert.All(spent.Steps, s => Assert.Contains("time budget", s.Error));
    }

    private async Task<Dictionary<string, long>> FileNodesAsync()
    {
        await using var cmd = db.DataSource.CreateCommand("""
            SELECT c.relname, c.relfilenode::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'message_history'::regclass
            """);
        var result = new Dictionary<string, long>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            result[reader.GetString(0)] = reader.GetInt64(1);
        return result;
    }
}
