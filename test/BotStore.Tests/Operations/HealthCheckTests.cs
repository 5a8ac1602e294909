using BotStore.Monitoring;
using BotStore.Partitions;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Operations;

/// <summary>The health checks, the database statistics and the tenants report against what a real database holds.</summary>
public sealed class HealthCheckTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Each_check_turns_red_on_its_problem_and_green_once_it_is_fixed()
    {
        var reports = new DatabaseReports(db.DataSource);
        var fresh = await ChecksAsync(reports);
        // duplicate_indexes too: migration 0028 dropped the seed's idx_sessions_user, which idx_sessions_covering covers.
        foreach (var name in new[] { "partition_runway", "default_partition_rows", "invalid_indexes", "duplicate_indexes", "pg_stat_statements" })
            Assert.True(fresh[name].Ok, $"{name}: {fresh[name].Detail}");
        // These two are the server's: other test classes' databases, running at once, may wait or hold a transaction.
        foreach (var name in new[] { "long_transactions", "lock_waits" })
            Assert.True(GreenHere(fresh[name]), $"{name}: {fresh[name].Detail}");
        var slowLog = await db.ScalarAsync<string>("SELECT setting FROM pg_settings WHERE name = 'log_min_duration_statement'");
        Assert.Equal(slowLog != "-1", fresh["slow_query_log"].Ok);

        // A premade month missing, a row stranded in the default partition, an invalid and a duplicate index.
        await db.ExecuteAsync($"DROP TABLE {Partition("message_history", 2)}");
        var session = await SampleRows.CreateConversationAsync(db);
        await SampleRows.InsertMessageAsync(db, session, Month(6).AddDays(3));
        await db.ExecuteAsync("CREATE TABLE health_probe (x int); INSERT INTO health_probe VALUES (1), (1)");
        await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync("CREATE UNIQUE INDEX CONCURRENTLY health_probe_x ON health_probe (x)"));
        await db.ExecuteAsync("CREATE INDEX health_bots_tenant ON bots (tenant_id)");

        var broken = await ChecksAsync(reports);
        Assert.False(broken["partition_runway"].Ok);
        Assert.Contains("message_history (runway 2 of 4 months)", broken["partition_runway"].Detail);
        Assert.False(broken["default_partition_rows"].Ok);
        Assert.Contains("message_history (1)", broken["default_partition_rows"].Detail);
        Assert.False(broken["invalid_indexes"].Ok);
        Assert.Contains("health_probe_x", broken["invalid_indexes"].Detail);
        Assert.False(broken["duplicate_indexes"].Ok);
        Assert.Contains("health_bots_tenant", broken["duplicate_indexes"].Detail);

        await new PartitionManager(db.DataSource).EnsureAsync();
        await db.ExecuteAsync("DROP TABLE health_probe; DROP INDEX health_bots_tenant");
        var fixedUp = await ChecksAsync(reports);
        foreach (var name in new[] { "partition_runway", "default_partition_rows", "invalid_indexes", "duplicate_indexes" })
            Assert.True(fixedUp[name].Ok, $"{name}: {fixedUp[name].Detail}");
    }

    [Fact]
    public async Task A_long_transaction_and_a_lock_wait_are_red_while_they_last()
    {
        await db.ExecuteAsync("CREATE TABLE IF NOT EXISTS lock_probe (x int)");
        var reports = new DatabaseReports(db.DataSource);
        var thresholds = new HealthThresholds { LongTransaction = TimeSpan.FromMilliseconds(200) };
        await using var holder = await db.DataSource.OpenConnectionAsync();
        await using var tx = await holder.BeginTransactionAsync();
        await using (var lockIt = new NpgsqlCommand("LOCK TABLE lock_probe IN ACCESS EXCLUSIVE MODE", holder, tx))
            await lockIt.ExecuteNonQueryAsync();
        await using var waiter = await db.DataSource.OpenConnectionAsync();
        var waiting = new NpgsqlCommand("SELECT count(*) FROM lock_probe", waiter).ExecuteScalarAsync();

        Assert.True(await EventuallyAsync(async () =>
        {
            var checks = (await reports.HealthChecksAsync(thresholds)).ToDictionary(c => c.Name);
            return !checks["lock_waits"].Ok && !checks["long_transactions"].Ok;
        }));
        await tx.RollbackAsync();
        await waiting;
        // The check is the server's: other databases' waits (other test classes run at once) may be listed, this one's not.
        var after = (await reports.HealthChecksAsync(thresholds)).ToDictionary(c => c.Name);
        Assert.True(GreenHere(after["lock_waits"]), after["lock_waits"].Detail);
    }

    // Green, or red only for other databases of the server (its details name each as user@database).
    private bool GreenHere(HealthCheck check) => check.Ok || !check.Detail.Contains($"@{db.Name} ", StringComparison.Ordinal);

    [Fact]
    public async Task Statistics_and_tenants_report_what_the_database_holds()
    {
        var reports = new DatabaseReports(db.DataSource);
        var stats = await reports.StatisticsAsync();
        Assert.Equal(db.Name, stats.Database);
        Assert.Equal(await db.ScalarAsync<long>("SELECT pg_database_size(current_database())"), stats.DatabaseBytes, 0.1 * stats.DatabaseBytes);
        Assert.Equal(int.Parse(await db.ScalarAsync<string>("SHOW max_connections"), System.Globalization.CultureInfo.InvariantCulture), stats.MaxConnections);
        Assert.True(stats.CommittedTransactions > 0);

        var busy = await SampleRows.CreateConversationAsync(db);
        for (var i = 0; i < 3; i++)
            await SampleRows.InsertMessageAsync(db, busy, DateTimeOffset.UtcNow.AddMinutes(-i), i);
        var tenants = await reports.TenantsAsync(5);
        Assert.Null(tenants.SampledPercent);
        var top = tenants.Top[0];
        Assert.Equal(busy.TenantId, top.Id);
        Assert.Equal(3, top.Messages);
        Assert.Equal(1, top.Bots);
        Assert.Equal(1, top.Users);
        Assert.True(top.MessageBytes > 0);
    }

    private static async Task<Dictionary<string, HealthCheck>> ChecksAsync(DatabaseReports reports) =>
        (await reports.HealthChecksAsync()).ToDictionary(c => c.Name);
}
