using BotStore.Internal;
using BotStore.Partitions;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Operations;

/// <summary>One partition runner across instances: a second manager skips (or waits), and a race loses or duplicates nothing.</summary>
public sealed class PartitionConcurrencyTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Two_managers_started_together_create_each_partition_once_and_lose_no_row()
    {
        await db.ExecuteAsync($"DROP TABLE {Partition("analytics_events", 1)}, {Partition("analytics_events", 2)}");
        var ids = (await EventsAsync(db.DataSource, 1, 20)).Concat(await EventsAsync(db.DataSource, 2, 30)).Concat(await EventsAsync(db.DataSource, 11, 5)).ToArray();

        var first = new PartitionManager(db.DataSource).EnsureAsync("analytics_events");
        var second = new PartitionManager(db.DataSource).EnsureAsync("analytics_events");
        var results = await Task.WhenAll(first, second);

        // One did the work; the other skipped on the runner lock, or ran after it and found nothing left.
        Assert.Contains(results, r => r.Created.Count == 0);
        var created = results.SelectMany(r => r.Created).Select(c => c.Partition).ToList();
        Assert.Equal(created.Distinct().Count(), created.Count);
        Assert.Equal(new[] { Partition("analytics_events", 1), Partition("analytics_events", 2), Partition("analytics_events", 11) }.Order(), created.Order());
        Assert.Equal(55L, results.SelectMany(r => r.Created).Sum(c => c.RowsMoved));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM ONLY analytics_events_default"));
        Assert.Equal(ids.Order(), await db.ScalarAsync<Guid[]>("SELECT array_agg(id ORDER BY id) FROM analytics_events"));
    }

    [Fact]
    public async Task A_manager_skips_while_another_holds_the_runner_lock_or_waits_for_it_when_asked()
    {
        await EventsAsync(db.DataSource, 7, 3);
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await Execute(holder, $"SELECT pg_advisory_lock({RunnerLock.Partitions})");

        var skipped = await new PartitionManager(db.DataSource).EnsureAsync("analytics_events");
        Assert.True(skipped.Skipped);
        Assert.Empty(skipped.Created);
        Assert.Equal(3L, await db.ScalarAsync<long>("SELECT count(*) FROM ONLY analytics_events_default"));

        var waiting = new PartitionManager(db.DataSource).EnsureAsync("analytics_events", wait: true);
        Assert.True(await EventuallyAsync(() => db.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))")));
        Assert.False(waiting.IsCompleted);
        await Execute(holder, $"SELECT pg_advisory_unlock({RunnerLock.Partitions})");

        var done = await waiting;
        Assert.False(done.Skipped);
        Assert.Equal(Partition("analytics_events", 7), Assert.Single(done.Created).Partition);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM ONLY analytics_events_default"));
    }

    private static async Task Execute(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
