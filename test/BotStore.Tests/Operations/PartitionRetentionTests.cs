using BotStore.Maintenance;
using BotStore.Partitions;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Operations;

/// <summary>Retention retires only partitions that end on or before the horizon, and never queues writers behind its lock.</summary>
public sealed class PartitionRetentionTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Retention_drops_only_partitions_wholly_older_than_the_horizon_and_a_dry_run_changes_nothing()
    {
        foreach (var m in new[] { -16, -14, -13, -12 })
        {
            await db.ExecuteAsync("SELECT create_monthly_partition('analytics_events', $1)", DateOnly.FromDateTime(Month(m).UtcDateTime));
            await EventsAsync(db.DataSource, m, 3);
        }
        var manager = Manager("analytics_events", 13);

        var plan = await manager.RetainAsync("analytics_events", dryRun: true);
        Assert.True(plan.DryRun);
        // 13 months back from this month's start: -14 ends exactly at the horizon, -13 starts there.
        Assert.Equal([Partition("analytics_events", -16), Partition("analytics_events", -14)], plan.Partitions.Select(p => p.Partition));
        Assert.All(plan.Partitions, p => Assert.Equal("drop", p.Action));
        Assert.Equal((true, true), await RelationAsync(db.DataSource, Partition("analytics_events", -16)));

        var result = await manager.RetainAsync("analytics_events");
        Assert.All(result.Partitions, p => Assert.Equal(MaintenanceOutcome.Succeeded, p.Outcome));
        Assert.Equal((false, false), await RelationAsync(db.DataSource, Partition("analytics_events", -16)));
        Assert.Equal((false, false), await RelationAsync(db.DataSource, Partition("analytics_events", -14)));
        foreach (var young in new[] { -13, -12, 0, 1, 2, 3 })
            Assert.Equal((true, true), await RelationAsync(db.DataSource, Partition("analytics_events", young)));
        Assert.Equal(3L, await db.ScalarAsync<long>($"SELECT count(*) FROM {Partition("analytics_events", -13)}"));
        Assert.Empty((await manager.RetainAsync("analytics_events")).Partitions);
    }

    [Fact]
    public async Task Keep_detached_leaves_old_partitions_as_plain_tables_without_foreign_keys()
    {
        var session = await SampleRows.CreateConversationAsync(db);
        foreach (var m in new[] { -26, -25, -24 })
        {
            await db.ExecuteAsync("SELECT create_monthly_partition('message_history', $1)", DateOnly.FromDateTime(Month(m).UtcDateTime));
            await MessagesAsync(db.DataSource, session, m, 4);
        }
        var manager = new PartitionManager(db.DataSource, new PartitionOptions
        {
            Tables = new Dictionary<string, PartitionTableOptions> { ["message_history"] = new() { RetentionMonths = 24 } },
            KeepDetached = true,
        });

        var result = await manager.RetainAsync("message_history");

        Assert.Equal([Partition("message_history", -26), Partition("message_history", -25)], result.Partitions.Select(p => p.Partition));
        foreach (var p in result.Partitions)
        {
            Assert.Equal(MaintenanceOutcome.Succeeded, p.Outcome);
            Assert.Equal(p.Partition + "_archive", p.KeptAs);
            Assert.Equal((false, false), await RelationAsync(db.DataSource, p.Partition));
            Assert.Equal((true, false), await RelationAsync(db.DataSource, p.KeptAs!));
            Assert.Equal(4L, await db.ScalarAsync<long>($"SELECT count(*) FROM {p.KeptAs}"));
            Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'", p.KeptAs!));
        }
        Assert.Equal((true, true), await RelationAsync(db.DataSource, Partition("message_history", -24)));
        // The session's archived messages no longer pin it.
        await db.ExecuteAsync("DELETE FROM message_history WHERE session_id = $1", session.SessionId);
        await db.ExecuteAsync("DELETE FROM user_sessions WHERE id = $1", session.SessionId);
    }

    [Fact]
    public async Task Detach_waits_on_a_long_query_with_a_short_lock_timeout_so_writers_keep_going_then_retries()
    {
        var session = await SampleRows.CreateConversationAsync(db);
        await db.ExecuteAsync("SELECT create_monthly_partition('message_history', $1)", DateOnly.FromDateTime(Month(-40).UtcDateTime));
        var manager = new PartitionManager(db.DataSource, new PartitionOptions
        {
            Tables = new Dictionary<string, PartitionTableOptions> { ["message_history"] = new() { RetentionMonths = 36 } },
            LockTimeout = TimeSpan.FromMilliseconds(300),
            LockAttempts = 12,
            RetryPause = TimeSpan.FromMilliseconds(50),
        });

        await using var reader = await LongReaderAsync();

        var retain = manager.RetainAsync("message_history");
        Assert.True(await EventuallyAsync(() => db.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'ALTER TABLE%DETACH PARTITION%')")));
        // A writer is never stuck behind the queued detach for longer than its lock_timeout.
        await using (var writer = NpgsqlDataSource.Create(db.ConnectionString + ";Options=-c statement_timeout=20s"))
            await MessagesAsync(writer, session, 0, 1);
        Assert.False(retain.IsCompleted);

        await reader.DisposeAsync();
        var result = await retain;
        Assert.Equal(MaintenanceOutcome.Succeeded, Assert.Single(result.Partitions).Outcome);
        Assert.Equal((false, false), await RelationAsync(db.DataSource, Partition("message_history", -40)));
    }

    [Fact]
    public async Task When_the_lock_never_comes_the_partition_stays_attached_and_the_run_records_why()
    {
        await db.ExecuteAsync("SELECT create_monthly_partition('message_history', $1)", DateOnly.FromDateTime(Month(-50).UtcDateTime));
        var manager = new PartitionManager(db.DataSource, new PartitionOptions
        {
            Tables = new Dictionary<string, PartitionTableOptions> { ["message_history"] = new() { RetentionMonths = 48 } },
            LockTimeout = TimeSpan.FromMilliseconds(100),
            LockAttempts = 2,
            RetryPause = TimeSpan.FromMilliseconds(10),
        });
        try
        {
            await using var reader = await LongReaderAsync();

            var result = await manager.RetainAsync("message_history");

            var p = Assert.Single(result.Partitions);
            Assert.Equal(MaintenanceOutcome.Failed, p.Outcome);
            Assert.Contains("could not lock message_history", p.Error);
            Assert.Equal((true, true), await RelationAsync(db.DataSource, Partition("message_history", -50)));
            var run = (await new MaintenanceRunner(db.DataSource).HistoryAsync(1, PartitionManager.RetainTask))[0];
            Assert.Equal(MaintenanceOutcome.Failed, run.Outcome);
            Assert.Contains("could not lock message_history", run.Error);
        }
        finally
        {
            // Leave no partition past another test's horizon behind.
            await db.ExecuteAsync($"DROP TABLE IF EXISTS {Partition("message_history", -50)}");
        }
    }

    [Fact]
    public async Task A_retention_shorter_than_the_premake_window_is_refused_before_anything_runs()
    {
        var ex = await Assert.ThrowsAsync<BotStoreConfigurationException>(() => Manager("message_history", 2).RetainAsync());
        Assert.Contains("shorter than its premake window of 3 months", ex.Message);
        var stored = await Assert.ThrowsAsync<BotStoreConfigurationException>(() => new PartitionManager(db.DataSource).SetPolicyAsync("analytics_events", 6, 4));
        Assert.Contains("shorter than its premake window", stored.Message);
    }

    /// <summary>A reader that holds ACCESS SHARE on message_history until it is disposed, which ends its transaction.</summary>
    private async Task<LongReader> LongReaderAsync()
    {
        var connection = await db.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var read = new NpgsqlCommand("SELECT count(*) FROM message_history", connection, transaction);
        await read.ExecuteScalarAsync();
        return new LongReader(connection, transaction);
    }

    private sealed class LongReader(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private PartitionManager Manager(string table, int retention) => new(db.DataSource, new PartitionOptions
    {
        Tables = new Dictionary<string, PartitionTableOptions> { [table] = new() { RetentionMonths = retention } },
    });
}
