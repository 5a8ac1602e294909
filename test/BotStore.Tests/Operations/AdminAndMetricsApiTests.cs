using System.Net;
using System.Text.Json;
using BotStore.Server;
using BotStore.Server.Operations;
using BotStore.Maintenance;
using BotStore.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BotStore.Tests.Operations;

/// <summary>/admin/db/... and /metrics over real HTTP, on a minimal host that maps only these endpoints.</summary>
public sealed class AdminAndMetricsApiTests(TestDatabase db) : IClassFixture<TestDatabase>, IAsyncLifetime
{
    private const string Token = "operations-test-token";
    private WebApplication? _app;
    private HttpClient _http = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{TestCluster.FreePort()}");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(db.DataSource);
        builder.Services.AddBotStoreOperations(new OperationsOptions { Enabled = false });
        _app = builder.Build();
        _app.UseRequestMetrics();
        _app.MapAdminApi(context => context.Request.Headers["X-Admin-Token"] == Token);
        _app.MapMetrics();
        await _app.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.Single()) };
        _http.DefaultRequestHeaders.Add("X-Admin-Token", Token);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_app is not null)
            await _app.DisposeAsync();
    }

    [Fact]
    public async Task Admin_reports_need_the_admin_token_and_return_the_cli_json()
    {
        using var anonymous = new HttpClient { BaseAddress = _http.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/db/tables")).StatusCode);

        using var tables = await JsonAsync("/admin/db/tables");
        var history = tables.RootElement.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "message_history");
        Assert.Equal("partitioned", history.GetProperty("kind").GetString());
        Assert.All(tables.RootElement.EnumerateArray(), t => Assert.Equal("default", t.GetProperty("shard").GetString())); // one shard: the label only
        Assert.True(history.GetProperty("partitions").GetInt32() >= 4);
        Assert.True(history.TryGetProperty("total_bytes", out _));

        using var health = await JsonAsync("/admin/db/health");
        var defaultRows = health.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "default_partition_rows");
        Assert.True(defaultRows.GetProperty("ok").GetBoolean());
        using var tenants = await JsonAsync("/admin/db/tenants?limit=3");
        Assert.True(tenants.RootElement.GetProperty("tenants").GetInt64() >= 0);
        Assert.Equal("default", tenants.RootElement.GetProperty("shards")[0].GetProperty("shard").GetString());

        using var indexes = await JsonAsync("/admin/db/indexes");
        Assert.Contains(indexes.RootElement.EnumerateArray(), i => i.GetProperty("name").GetString() == "idx_messages_session");
        using var queries = await JsonAsync("/admin/db/queries?limit=5&order=mean");
        Assert.True(queries.RootElement.GetProperty("available").GetBoolean());
        Assert.InRange(queries.RootElement.GetProperty("queries").GetArrayLength(), 1, 5);
        using var vacuum = await JsonAsync("/admin/db/vacuum");
        Assert.Contains(vacuum.RootElement.EnumerateArray(), v => v.GetProperty("table").GetString() == "tenants");
        using var connections = await JsonAsync("/admin/db/connections");
        Assert.True(connections.RootElement.GetProperty("total").GetInt32() >= 1);
        using var partitions = await JsonAsync("/admin/db/partitions");
        Assert.Equal(2, partitions.RootElement.GetArrayLength());
        var badOrder = await _http.GetAsync("/admin/db/queries?order=fastest");
        Assert.Equal(HttpStatusCode.BadRequest, badOrder.StatusCode);
        Assert.Equal("application/problem+json", badOrder.Content.Headers.ContentType?.MediaType);
        using (var problem = JsonDocument.Parse(await badOrder.Content.ReadAsStringAsync()))
            Assert.Contains("order 'fastest' is not one of total, mean, calls", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await new MaintenanceRunner(db.DataSource).RunAsync(MaintenanceTask.Vacuum, "tenants");
        using var maintenance = await JsonAsync("/admin/db/maintenance?task=vacuum&limit=1");
        var run = maintenance.RootElement[0];
        Assert.Equal("vacuum", run.GetProperty("task").GetString());
        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Metrics_expose_requests_pool_sizes_runway_and_the_last_maintenance_outcome()
    {
        await new MaintenanceRunner(db.DataSource).RunAsync(MaintenanceTask.Analyze, "tenants");
        using var anonymous = new HttpClient { BaseAddress = _http.BaseAddress };
        await anonymous.GetAsync("/admin/db/partitions");
        (await _http.GetAsync("/admin/db/partitions")).EnsureSuccessStatusCode();

        var response = await _http.GetAsync("/metrics");

        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("botstore_http_requests_total{method=\"GET\",route=\"/admin/db/partitions\",status=\"200\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("botstore_http_requests_total{method=\"GET\",route=\"/admin/db/partitions\",status=\"401\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("botstore_http_request_duration_seconds_bucket{method=\"GET\",route=\"/admin/db/partitions\",le=\"+Inf\"} 2", StringComparison.Ordinal));
        Assert.Contains("# TYPE botstore_http_request_duration_seconds histogram", lines);
        Assert.Contains(lines, l => l.StartsWith("npgsql_db_client_connection_count{", StringComparison.Ordinal));
        // Database latency is a real histogram too (Npgsql's command durations, through prometheus-net's meter adapter).
        Assert.Contains("# TYPE npgsql_db_client_operation_duration histogram", lines);
        Assert.Contains(lines, l => l.StartsWith("npgsql_db_client_operation_duration_bucket{", StringComparison.Ordinal) && l.Contains("le=\"0.005\"", StringComparison.Ordinal));
        // Not the counters Npgsql updates on every socket read, flush and command start and end (MetricsRegistry.Published).
        Assert.DoesNotContain(lines, l => l.StartsWith("npgsql_db_client_operation_npgsql_bytes_", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("npgsql_db_client_operation_npgsql_executing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("botstore_table_total_bytes{shard=\"default\",table=\"message_history\",kind=\"partitioned\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("botstore_index_bytes{shard=\"default\",index=\"idx_messages_session\",table=\"message_history\"} ", StringComparison.Ordinal));
        Assert.Contains("botstore_partition_runway_months{shard=\"default\",table=\"message_history\"} 4", lines);
        Assert.Contains("botstore_partition_default_rows{shard=\"default\",table=\"analytics_events\"} 0", lines);
        Assert.Contains("botstore_maintenance_last_success{shard=\"default\",task=\"analyze\"} 1", lines);
        Assert.Contains("botstore_maintenance_last_outcome{shard=\"default\",task=\"analyze\",outcome=\"succeeded\"} 1", lines);
        Assert.Contains("botstore_database_up{shard=\"default\"} 1", lines);
        // Every sample line belongs to a family declared before it.
        var declared = new HashSet<string>();
        foreach (var line in lines.Where(l => l.Length > 0))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                declared.Add(line.Split(' ')[2]);
            else if (!line.StartsWith('#'))
                Assert.Contains(declared, d => line.StartsWith(d, StringComparison.Ordinal));
        }
    }

    private async Task<JsonDocument> JsonAsync(string path)
    {
        var response = await _http.GetAsync(path);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }
}
