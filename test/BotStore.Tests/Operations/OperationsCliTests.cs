using System.Text.Json;
using BotStore.Tests.Infrastructure;
using static BotStore.Tests.Operations.OperationsData;

namespace BotStore.Tests.Operations;

/// <summary>The operations verbs of the real CLI: aligned tables, --json, and one-line errors for bad input.</summary>
public sealed class OperationsCliTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task Partitions_status_and_ensure_report_the_runway_and_recover_the_default_partition()
    {
        await EventsAsync(db.DataSource, 10, 4);

        var ensure = await RunAsync("partitions", "ensure", "--table", "analytics_events");
        Assert.True(ensure.ExitCode == 0, ensure.Stderr);
        Assert.Contains(Partition("analytics_events", 10), ensure.Stdout);
        Assert.Contains("analytics_events 0 rows", ensure.Stdout);

        var status = await RunAsync("partitions", "status", "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        using var json = JsonDocument.Parse(status.Stdout);
        var events = json.RootElement.EnumerateArray().Single(t => t.GetProperty("table").GetString() == "analytics_events");
        Assert.Equal(4, events.GetProperty("runway_months").GetInt32());
        Assert.Equal(0, events.GetProperty("default_rows").GetInt64());
        Assert.Contains(events.GetProperty("partitions").EnumerateArray(), p => p.GetProperty("name").GetString() == Partition("analytics_events", 10));

        var table = await RunAsync("partitions", "status");
        Assert.Contains("runway (months)", table.Stdout);
    }

    [Fact]
    public async Task Bad_input_is_one_line_on_stderr_a_non_zero_exit_and_nothing_written()
    {
        var runs = await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_runs");

        await FailsWith(["partitions", "retain", "--retention", "2"], "retention of 2 months for analytics_events is shorter than its premake window of 3 months");
        await FailsWith(["partitions", "ensure", "--table", "tenants"], "table 'tenants' is not partitioned");
        await FailsWith(["maintain", "run", "cluster", "--table", Partition("message_history", 0)], "clusters only closed partitions");
        await FailsWith(["explain", "SELECT 1; SELECT 2"], "cannot explain that statement");
        var usage = await RunAsync("maintain", "run", "defragment");
        Assert.Equal(2, usage.ExitCode);

        Assert.Equal(runs, await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_runs"));
    }

    [Fact]
    public async Task Retain_dry_run_maintain_run_history_reports_and_explain()
    {
        await db.ExecuteAsync("SELECT create_monthly_partition('analytics_events', $1)", DateOnly.FromDateTime(Month(-30).UtcDateTime));
        var dryRun = await RunAsync("partitions", "retain", "--retention", "24", "--dry-run");
        Assert.Equal(0, dryRun.ExitCode);
        Assert.Contains(Partition("analytics_events", -30), dryRun.Stdout);
        Assert.Contains("Dry run: nothing was changed.", dryRun.Stdout);
        Assert.Equal((true, true), await RelationAsync(db.DataSource, Partition("analytics_events", -30)));

        var analyze = await RunAsync("maintain", "run", "analyze", "--table", "tenants", "--json");
        Assert.Equal(0, analyze.ExitCode);
        using (var json = JsonDocument.Parse(analyze.Stdout))
        {
            Assert.Equal("analyze", json.RootElement.GetProperty("task").GetString());
            Assert.Equal("succeeded", json.RootElement.GetProperty("outcome").GetString());
            Assert.Equal("ANALYZE \"tenants\"", json.RootElement.GetProperty("steps")[0].GetProperty("statement").GetString());
        }
        var history = await RunAsync("maintain", "history");
        Assert.Equal(0, history.ExitCode);
        Assert.Contains("analyze", history.Stdout);
        Assert.Contains("succeeded", history.Stdout);

        foreach (var report in new[] { "health", "tables", "indexes", "queries", "vacuum", "connections", "partitions", "tenants" })
        {
            var printed = await RunAsync("report", report, "--json");
            Assert.True(printed.ExitCode == 0, $"report {report}: {printed.Stderr}");
            using var _ = JsonDocument.Parse(printed.Stdout);
        }
        var tables = await RunAsync("report", "tables");
        Assert.Contains("message_history", tables.Stdout);
        var health = await RunAsync("report", "health");
        Assert.Contains("Default partitions empty", health.Stdout);
        Assert.Contains("pg_stat_statements", health.Stdout);

        var explain = await RunAsync("explain", "UPDATE tenants SET name = name || ' changed'"); // names stay distinct: they are unique
        Assert.Equal(0, explain.ExitCode);
        Assert.Contains("Update on tenants", explain.Stdout);
        Assert.Contains("rolled back", explain.Stdout);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM tenants WHERE name LIKE '% changed'"));
    }

    private async Task FailsWith(string[] args, string message)
    {
        var result = await RunAsync(args);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, line);
    }

    private Task<Infrastructure.Cli.Result> RunAsync(params string[] args) => Infrastructure.Cli.RunAsync(["--database", db.ConnectionString, .. args]);
}
