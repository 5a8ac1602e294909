using System.Globalization;
using System.Text.Json;
using BotStore.Server.Operations;
using BotStore.Tests.Infrastructure;
using BotStore.Tooling.Embedded;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static BotStore.Tests.Infrastructure.TestSql;

namespace BotStore.Tests.Operations;

/// <summary>
/// Issue 8's restore drill through the real verbs and pgBackRest: back up, write, note the time, write more, restore
/// to the noted time into a new folder, start it, and find exactly the rows committed before that time.
/// </summary>
public sealed class PointInTimeRecoveryTests
{
    [Fact]
    public async Task A_restore_to_a_noted_time_holds_exactly_the_rows_committed_before_it()
    {
        var folder = TestCluster.NewTempFolder("botstore-pitr");
        var source = Path.Combine(folder, "pg");
        var copy = Path.Combine(folder, "restored");
        var port = TestCluster.FreePort().ToString(CultureInfo.InvariantCulture);
        var copyPort = TestCluster.FreePort();
        try
        {
            // The test holds the cluster open, as a running serve would; the verbs attach to it.
            await using (var cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = source, Port = int.Parse(port, CultureInfo.InvariantCulture), SharedBuffers = "16MB", MaxConnections = 20 }))
            {
                await ExecuteAsync(cluster.ConnectionString, "CREATE TABLE drill (n int PRIMARY KEY)");
                var backup = await Infrastructure.Cli.RunAsync(["backup", "--type", "full", "--data-dir", source, "--pg-port", port]);
                Assert.True(backup.ExitCode == 0, backup.Stderr);
                // pgBackRest keeps a backup's stop time in whole seconds, rounded up; a target within that second finds
                // no backup that ended before it. A real operator's target is never that close to the backup.
                await Task.Delay(TimeSpan.FromSeconds(2));

                for (var n = 1; n <= 5; n++)
                    await ExecuteAsync(cluster.ConnectionString, $"INSERT INTO drill VALUES ({n})");
                var noted = await ScalarAsync<DateTime>(cluster.ConnectionString, "SELECT clock_timestamp()");
                for (var n = 6; n <= 10; n++)
                    await ExecuteAsync(cluster.ConnectionString, $"INSERT INTO drill VALUES ({n})");

                var list = await Infrastructure.Cli.RunAsync(["backup", "list", "--json", "--data-dir", source, "--pg-port", port]);
                Assert.True(list.ExitCode == 0, list.Stderr);
                var backups = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("backups");
                Assert.Equal("full", Assert.Single(backups.EnumerateArray()).GetProperty("type").GetString());

                var at = noted.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);
                var restore = await Infrastructure.Cli.RunAsync(["restore", "--to", at, "--from", source, "--data-dir", copy,
                    "--pg-port", copyPort.ToString(CultureInfo.InvariantCulture)], timeout: TimeSpan.FromMinutes(4));
                Assert.True(restore.ExitCode == 0, restore.Stderr);
                Assert.Contains($"port {copyPort}", restore.Stdout, StringComparison.Ordinal);
                Assert.Equal(10, await ScalarAsync<long>(cluster.ConnectionString, "SELECT count(*) FROM drill"));
            }

            await using var restored = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions { DataDirectory = copy, SharedBuffers = "16MB", MaxConnections = 20 });
            Assert.Equal(copyPort, restored.Port);
            var rows = await ScalarAsync<int[]>(restored.ConnectionString, "SELECT array_agg(n ORDER BY n) FROM drill");
            Assert.Equal(new[] { 1, 2, 3, 4, 5 }, rows);
            // A cluster of its own: it takes writes and archives to its own repository.
            await ExecuteAsync(restored.ConnectionString, "INSERT INTO drill VALUES (6)");
            Assert.NotEqual(Path.Combine(folder, "pg.backup"), restored.Backups!.Folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Scheduled_backups_are_full_then_incremental_until_the_full_one_is_old_enough()
    {
        var folder = TestCluster.NewTempFolder("botstore-backups");
        try
        {
            await using var cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
                { DataDirectory = Path.Combine(folder, "pg"), Port = TestCluster.FreePort(), SharedBuffers = "16MB", MaxConnections = 20 });
            var backups = cluster.Backups!;
            // serve schedules this job on the embedded cluster by default, and not at all when the schedule is empty.
            Assert.Equal("0 0 2 * * ?", ClusterBackups.Job(backups, new OperationsOptions(), NullLogger.Instance)!.Cron!.CronExpressionString);
            Assert.Null(ClusterBackups.Job(backups, new OperationsOptions { BackupSchedule = "" }, NullLogger.Instance));

            await ClusterBackups.RunAsync(backups, fullEveryDays: 7, NullLogger.Instance, CancellationToken.None);
            await ExecuteAsync(cluster.ConnectionString, "CREATE TABLE between_backups (n int)");
            await ClusterBackups.RunAsync(backups, fullEveryDays: 7, NullLogger.Instance, CancellationToken.None);
            // A full backup younger than zero days does not exist: the next one is full again.
            await ClusterBackups.RunAsync(backups, fullEveryDays: 0, NullLogger.Instance, CancellationToken.None);

            Assert.Equal(["full", "incr", "full"], (await backups.ListAsync(CancellationToken.None)).Select(b => b.Type));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_restore_without_a_new_data_folder_is_refused_in_one_line()
    {
        var result = await Infrastructure.Cli.RunAsync(["restore", "--to", "2026-01-01T00:00:00Z"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("restore needs --data-dir NEW", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }
}
