using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Scale;

/// <summary>
/// bench crowd with a small crowd: a real PgBouncer in transaction mode and real PostgreSQL, run to the end, every
/// call of both sides without error; its figures are printed, never asserted.
/// </summary>
public sealed class CrowdBenchTests
{
    [Fact]
    public async Task A_small_crowd_through_PgBouncer_and_direct_runs_without_errors_and_writes_its_report()
    {
        var server = await TestCluster.GetAsync();
        var output = TestCluster.NewTempFolder("botstore-bench-crowd");
        var scratch = $"crowd_{Guid.NewGuid():N}"[..20];
        try
        {
            var result = await Infrastructure.Cli.RunAsync(
                ["bench", "crowd", "--quick", "--messages", "10K", "--crowd", "40", "--runs", "1", "--seconds", "1", "--database", server.ConnectionString,
                 "--scratch-db", scratch, "--out", output],
                timeout: TimeSpan.FromMinutes(5));
            Assert.True(result.ExitCode == 0, result.Stderr);
            var text = await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(output, "*-crowd.md")));
            Assert.Contains("--crowd 40`", text, StringComparison.Ordinal);
            foreach (var metric in new[] { "throughput", "p50", "p99", "time to connect" })
                Assert.Contains($"| crowd | crowd 40: {metric} | via PgBouncer, 40 workers:", text, StringComparison.Ordinal);
            // Zero errors on both sides: the target "errors / calls ≤ 0" met, and calls made.
            Assert.Contains("| crowd | crowd 40: errors / calls via PgBouncer, all runs | errors: 0 ", text, StringComparison.Ordinal);
            Assert.Contains("| crowd | crowd 40: errors / calls direct, all runs | errors: 0 ", text, StringComparison.Ordinal);
            Assert.Equal(2, text.Split('\n').Count(l => l.Contains("errors / calls", StringComparison.Ordinal) && l.EndsWith("| yes |", StringComparison.Ordinal)));
            Assert.Contains("connections open at the end of each run 40 (of 40)", text, StringComparison.Ordinal);
            Assert.DoesNotContain("FAILED", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task A_crowd_the_machine_cannot_hold_stops_with_one_line_before_anything_is_created()
    {
        var server = await TestCluster.GetAsync();
        // 100,000 sockets: more than any local port range holds (and than the open-file limit here).
        var result = await Infrastructure.Cli.RunAsync(["bench", "crowd", "--crowd", "100000", "--database", server.ConnectionString, "--scratch-db", "crowd_never"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bench crowd: a crowd of 100,000 needs", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(server.ConnectionString);
        await using var cmd = dataSource.CreateCommand("SELECT count(*) FROM pg_database WHERE datname = 'crowd_never'");
        Assert.Equal(0L, await cmd.ExecuteScalarAsync());
    }
}
