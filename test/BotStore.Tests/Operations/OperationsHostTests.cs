using BotStore.Server.Operations;
using BotStore.Maintenance;
using BotStore.Monitoring;
using BotStore.Partitions;
using BotStore.Sharding;
using BotStore.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Npgsql;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Operations;

/// <summary>The scheduling host of <c>serve</c>: one clear error at start-up for bad configuration, and one runner across instances.</summary>
public sealed class OperationsHostTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Theory]
    [InlineData("every sunday at 4")]
    [InlineData("0 0 25 * * ?")]
    [InlineData("61 * * * *")]
    public void A_cron_expression_that_does_not_parse_is_one_clear_error_at_registration(string cron)
    {
        var ex = Assert.Throws<BotStoreConfigurationException>(() =>
            new ServiceCollection().AddBotStoreOperations(new OperationsOptions { ReindexSchedule = cron }));
        Assert.StartsWith($"BotStore:Operations:ReindexSchedule '{cron}' is not a cron expression", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("0 0 4 ? * SUN")]
    [InlineData("0 4 * * 0")]
    [InlineData("@daily")]
    public void Quartz_unix_and_macro_schedules_are_accepted(string cron) =>
        new OperationsOptions { ReindexSchedule = cron }.Validate();

    [Fact]
    public void Options_bind_from_the_operations_configuration_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BotStore:Operations:AnalyzeSchedule"] = "",
            ["BotStore:Operations:ReindexSchedule"] = "0 30 2 ? * SAT",
            ["BotStore:Operations:Tables:message_history:RetentionMonths"] = "24",
            ["BotStore:Operations:Tables:analytics_events:PremakeMonths"] = "6",
            ["BotStore:Operations:VacuumTables:0"] = "user_sessions",
            ["BotStore:Operations:KeepDetached"] = "true",
        }).Build();

        // The options pattern, as a host registers it: IOptions<OperationsOptions> bound from BotStore:Operations.
        using var provider = new ServiceCollection().AddBotStoreOperations(configuration).BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<OperationsOptions>>().Value;
        Assert.Same(options, provider.GetRequiredService<OperationsOptions>());

        Assert.Equal(["partitions", "reindex", "cluster"], options.Schedules().Select(s => s.Name));
        var partitions = options.ToPartitionOptions();
        Assert.Equal(24, partitions.Tables["message_history"].RetentionMonths);
        Assert.Equal(6, partitions.Tables["analytics_events"].PremakeMonths);
        Assert.True(partitions.KeepDetached);
        Assert.Equal(["user_sessions"], options.ToMaintenanceOptions().VacuumTables);
        Assert.Equal(new ClusterTarget("message_history", "idx_messages_session"), Assert.Single(options.ToMaintenanceOptions().ClusterTargets));
    }

    [Fact]
    public async Task A_host_with_a_bad_operations_setting_does_not_start_and_the_failure_names_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BotStore:Operations:TimeBudgetMinutes"] = "0",
        }).Build();
        var builder = Host.CreateEmptyApplicationBuilder(null);
        builder.Services.AddSingleton(db.DataSource).AddBotStoreOperations(configuration);
        using var host = builder.Build();
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal("BotStore:Operations:TimeBudgetMinutes must be positive (got 0)", ex.Message);
        // serve checks the same way before it migrates: one line, the same words.
        Assert.Equal(ex.Message, Assert.Throws<BotStoreConfigurationException>(() => OperationsOptions.Load(configuration)).Message);
    }

    [Fact]
    public async Task Bad_configuration_stops_start_up_before_anything_runs()
    {
        var runs = await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_runs");
        await db.ExecuteAsync($"DROP TABLE {Partition("analytics_events", 3)}");

        await StartFails(new OperationsOptions { Tables = { ["message_history"] = new() { RetentionMonths = 2 } } }, "shorter than its premake window of 3 months");
        await StartFails(new OperationsOptions { Tables = { ["tenants"] = new() { PremakeMonths = 2 } } }, "table 'tenants' is not partitioned");
        await StartFails(new OperationsOptions { Tables = { ["no_such_table"] = new() { PremakeMonths = 2 } } }, "table 'no_such_table' does not exist");
        await StartFails(new OperationsOptions { ClusterTargets = { ["tenants"] = "tenants_pkey" } }, "cluster target 'tenants' is not partitioned");
        await StartFails(new OperationsOptions { VacuumTables = ["no_such_table"] }, "vacuum table 'no_such_table' does not exist");

        Assert.Equal(runs, await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_runs"));
        Assert.Equal((false, false), await RelationAsync(db.DataSource, Partition("analytics_events", 3)));
    }

    [Fact]
    public async Task Two_instances_run_the_partition_job_at_start_and_the_schedules_one_at_a_time()
    {
        var options = new OperationsOptions
        {
            AnalyzeSchedule = "* * * * * ?",
            ReindexSchedule = null,
            ClusterSchedule = null,
        };
        await db.ExecuteAsync($"DROP TABLE {Partition("message_history", 2)}");
        var first = Service(options);
        var second = Service(options);
        await Task.WhenAll(first.StartAsync(CancellationToken.None), second.StartAsync(CancellationToken.None));
        try
        {
            Assert.True(await EventuallyAsync(() => db.ScalarAsync<bool>(
                "SELECT count(*) >= 4 FROM maintenance_runs WHERE task = 'analyze' AND run_id IS NULL AND outcome = 'succeeded'"), 60));
            Assert.True(await EventuallyAsync(() => db.ScalarAsync<bool>(
                "SELECT EXISTS (SELECT 1 FROM maintenance_runs WHERE task = 'partitions_ensure' AND outcome = 'succeeded')")));
        }
        finally
        {
            await Task.WhenAll(first.StopAsync(CancellationToken.None), second.StopAsync(CancellationToken.None));
            await first.DisposeAsync();
            await second.DisposeAsync();
        }

        Assert.Equal((true, true), await RelationAsync(db.DataSource, Partition("message_history", 2)));
        // Both instances fire every second; the runner lock lets only one analyze at a time.
        Assert.Equal(0L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM maintenance_runs a JOIN maintenance_runs b ON a.id < b.id
            WHERE a.task = 'analyze' AND b.task = 'analyze' AND a.run_id IS NULL AND b.run_id IS NULL
              AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)
            """));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_runs WHERE outcome = 'running'"));
    }

    [Fact]
    public async Task One_scheduler_runs_the_operations_of_every_shard_and_names_the_shard_in_its_jobs()
    {
        var second = await TestCluster.CreateMigratedDatabaseAsync();
        await using var west = NpgsqlDataSource.Create(second);
        try
        {
            var options = new OperationsOptions { AnalyzeSchedule = "* * * * * ?", ReindexSchedule = null, ClusterSchedule = null };
            await using var router = new ShardRouter([new Shard("east", db.DataSource), new Shard("west", west)]);
            var shards = new OperationsShards(router, router.Shards.Select(shard =>
            {
                var partitions = new PartitionManager(shard.Direct, options.ToPartitionOptions());
                return new OperationsShard(shard, new DatabaseReports(shard.Direct, partitions), partitions, new MaintenanceRunner(shard.Direct, options.ToMaintenanceOptions()));
            }).ToList());
            var logs = new FakeLogCollector();
            await using var service = new OperationsHostedService(options, shards, new FakeLogger<OperationsHostedService>(logs));
            var since = DateTimeOffset.UtcNow;
            await service.StartAsync(CancellationToken.None);
            try
            {
                const string analyzed = "SELECT count(*) > 0 FROM maintenance_runs WHERE task = 'analyze' AND run_id IS NULL AND outcome = 'succeeded' AND started_at >= $1";
                Assert.True(await EventuallyAsync(() => db.ScalarAsync<bool>(analyzed, since), 60));
                await using var westDb = new NpgsqlConnection(second);
                await westDb.OpenAsync();
                Assert.True(await EventuallyAsync(async () =>
                {
                    await using var cmd = new NpgsqlCommand(analyzed, westDb) { Parameters = { new() { Value = since } } };
                    return await cmd.ExecuteScalarAsync() is true;
                }, 60));
            }
            finally
            {
                await service.StopAsync(CancellationToken.None);
            }
            var lines = logs.GetSnapshot().Select(r => r.Message).ToList();
            Assert.Contains(lines, l => l.StartsWith("BotStore operations: analyze@east on", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("BotStore operations: analyze@west on", StringComparison.Ordinal));
        }
        finally
        {
            await TestCluster.DropDatabaseAsync(second);
        }
    }

    private async Task StartFails(OperationsOptions options, string message)
    {
        await using var service = Service(options);
        var ex = await Assert.ThrowsAsync<BotStoreConfigurationException>(() => service.StartAsync(CancellationToken.None));
        Assert.Contains(message, ex.Message);
    }

    private OperationsHostedService Service(OperationsOptions options) => new(options,
        new PartitionManager(db.DataSource, options.ToPartitionOptions()), new MaintenanceRunner(db.DataSource, options.ToMaintenanceOptions()),
        NullLogger<OperationsHostedService>.Instance);
}
