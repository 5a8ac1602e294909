using BotStore.Partitions;
using BotStore.Tests.Infrastructure;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Operations;

/// <summary>Ensure recovers a manager that was not run for months: rows stranded in the default partition get their partitions.</summary>
public sealed class PartitionRecoveryTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_manager_not_run_for_three_months_recovers_in_one_pass_without_losing_or_duplicating_a_row()
    {
        // The premade partitions of this month and the next ones never came: drop them (they are empty).
        for (var m = 0; m <= 3; m++)
            await db.ExecuteAsync($"DROP TABLE {Partition("message_history", m)}");
        var session = await SampleRows.CreateConversationAsync(db);
        var inserted = new Dictionary<int, Guid[]>
        {
            [-1] = await MessagesAsync(db.DataSource, session, -1, 5),
            [0] = await MessagesAsync(db.DataSource, session, 0, 7),
            [1] = await MessagesAsync(db.DataSource, session, 1, 3),
            [2] = await MessagesAsync(db.DataSource, session, 2, 4),
            [5] = await MessagesAsync(db.DataSource, session, 5, 2),
        };
        Assert.Equal(21L, await db.ScalarAsync<long>("SELECT count(*) FROM ONLY message_history_default"));
        var before = await IdsAsync();

        var manager = new PartitionManager(db.DataSource);
        var result = await manager.EnsureAsync("message_history");

        Assert.False(result.Skipped);
        Assert.Empty(result.Failures);
        var created = result.Created.ToDictionary(c => c.Partition, c => c.RowsMoved);
        Assert.Equal(new Dictionary<string, long>
        {
            [Partition("message_history", -1)] = 5,
            [Partition("message_history", 0)] = 7,
            [Partition("message_history", 1)] = 3,
            [Partition("message_history", 2)] = 4,
            [Partition("message_history", 3)] = 0,
            [Partition("message_history", 5)] = 2,
        }, created);
        Assert.Equal(0L, result.DefaultRows["message_history"]);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM ONLY message_history_default"));
        Assert.Equal(before, await IdsAsync());
        foreach (var (offset, ids) in inserted)
        {
            var partition = Partition("message_history", offset);
            Assert.Equal((true, true), await RelationAsync(db.DataSource, partition));
            var inPartition = await db.ScalarAsync<Guid[]>($"SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM ONLY {partition}");
            Assert.Equal(ids.Order(), inPartition);
        }

        var status = (await manager.StatusAsync("message_history")).Single();
        Assert.Equal(4, status.RunwayMonths);
        Assert.Equal(0, status.DefaultRows);
        Assert.Empty((await manager.EnsureAsync("message_history")).Created);
    }

    [Fact]
    public async Task Rows_in_the_default_partition_for_a_future_month_get_that_months_partition()
    {
        var ids = await EventsAsync(db.DataSource, 6, 9);
        Assert.Equal(9L, await db.ScalarAsync<long>("SELECT count(*) FROM ONLY analytics_events_default"));
        var total = await db.ScalarAsync<long>("SELECT count(*) FROM analytics_events");

        var result = await new PartitionManager(db.DataSource).EnsureAsync("analytics_events");

        var made = Assert.Single(result.Created);
        Assert.Equal(Partition("analytics_events", 6), made.Partition);
        Assert.Equal(9, made.RowsMoved);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM ONLY analytics_events_default"));
        Assert.Equal(total, await db.ScalarAsync<long>("SELECT count(*) FROM analytics_events"));
        Assert.Equal(ids.Order(), await db.ScalarAsync<Guid[]>($"SELECT array_agg(id ORDER BY id) FROM ONLY {made.Partition}"));
    }

    [Fact]
    public async Task Every_new_partition_gets_the_seeds_autovacuum_options_and_its_parents_indexes()
    {
        var session = await SampleRows.CreateConversationAsync(db);
        await MessagesAsync(db.DataSource, session, 8, 2);
        var made = (await new PartitionManager(db.DataSource).EnsureAsync("message_history")).Created.Single(c => c.Month == DateOnly.FromDateTime(Month(8).UtcDateTime));

        var options = await db.ScalarAsync<string[]>("SELECT reloptions FROM pg_class WHERE relname = $1", made.Partition);
        Assert.Contains("autovacuum_vacuum_scale_factor=0.01", options);
        Assert.Contains("autovacuum_analyze_scale_factor=0.005", options);
        Assert.Contains("autovacuum_vacuum_cost_delay=2", options);
        // Each of the parent's indexes has an attached copy on the partition.
        var parentIndexes = await db.ScalarAsync<string[]>("""
            SELECT array_agg(c.relname ORDER BY c.relname) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
            WHERE x.indrelid = 'message_history'::regclass
            """);
        var attached = await db.ScalarAsync<string[]>("""
            SELECT array_agg(p.relname ORDER BY p.relname)
            FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indexrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE x.indrelid = $1::regclass
            """, made.Partition);
        Assert.Equal(parentIndexes, attached);
        Assert.Equal(4, attached.Length);
    }

    [Fact]
    public async Task Each_run_is_recorded_in_maintenance_runs_with_a_step_per_created_partition()
    {
        await EventsAsync(db.DataSource, 9, 1);
        await new PartitionManager(db.DataSource).EnsureAsync("analytics_events");

        var run = (await new Maintenance.MaintenanceRunner(db.DataSource).HistoryAsync(1, PartitionManager.EnsureTask)).ToList();
        Assert.Equal(Maintenance.MaintenanceOutcome.Succeeded, run[0].Outcome);
        Assert.Null(run[0].RunId);
        var step = Assert.Single(run, r => r.RunId == run[0].Id);
        Assert.Equal(Partition("analytics_events", 9), step.Target);
        Assert.Contains("moved 1 rows", step.Detail);
    }

    private Task<Guid[]> IdsAsync() => db.ScalarAsync<Guid[]>("SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM message_history");
}
