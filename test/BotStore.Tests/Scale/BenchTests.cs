using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Scale;

/// <summary>The bench's quick mode runs to the end and writes its report; its figures are printed, never asserted.</summary>
public sealed class BenchTests
{
    [Fact]
    public async Task Bench_quick_runs_every_comparison_to_the_end_and_writes_the_report_and_chart()
    {
        var server = await TestCluster.GetAsync();
        var output = TestCluster.NewTempFolder("botstore-bench");
        var scratch = $"bench_{Guid.NewGuid():N}"[..20];
        try
        {
            var result = await Infrastructure.Cli.RunAsync(
                ["bench", "all", "--quick", "--messages", "20K", "--ingest-rows", "20K", "--runs", "2", "--database", server.ConnectionString, "--scratch-db", scratch, "--out", output],
                timeout: TimeSpan.FromMinutes(10));
            Assert.True(result.ExitCode == 0, result.Stderr);
            var report = Assert.Single(Directory.GetFiles(output, "*.md"));
            var text = await File.ReadAllTextAsync(report);
            foreach (var comparison in new[] { "ingest", "storage", "enums", "brin", "partitions", "flatness", "append", "pooled" })
                Assert.Contains($"| {comparison} |", text, StringComparison.Ordinal);
            Assert.DoesNotContain("FAILED", text, StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(output, "*.png"));
            Assert.DoesNotContain(scratch, await ScalarAsync(server.ConnectionString, "SELECT string_agg(datname, ',') FROM pg_database"), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task Bad_bench_options_print_one_line_and_create_nothing()
    {
        var server = await TestCluster.GetAsync();
        var result = await Infrastructure.Cli.RunAsync(["bench", "all", "--clients", "8,x", "--database", server.ConnectionString, "--scratch-db", "bench_never"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("--clients", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("bench_never", await ScalarAsync(server.ConnectionString, "SELECT string_agg(datname, ',') FROM pg_database"), StringComparison.Ordinal);
    }

    private static async Task<string> ScalarAsync(string connectionString, string sql)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
        await using var cmd = dataSource.CreateCommand(sql);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }
}
