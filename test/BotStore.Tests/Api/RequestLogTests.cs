using System.Text.Json;
using BotStore.Data;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Api;

/// <summary>
/// What <c>serve</c> writes to its console: one line per request (method, route template, status, duration, tenant),
/// never a token or a raw id, in JSON with <c>--log-format json</c>, with date and time, and Npgsql's own lines through
/// the same logger factory.
/// </summary>
public sealed class RequestLogTests
{
    [Fact]
    public async Task Serve_logs_one_json_line_per_request_with_its_route_status_duration_and_tenant_and_never_a_token()
    {
        var database = await TestCluster.CreateMigratedDatabaseAsync();
        long tenantId;
        string token;
        await using (var dataSource = NpgsqlDataSource.Create(database))
        {
            var (tenant, t) = await new TenantStore(dataSource).CreateAsync($"log-{Guid.NewGuid():N}"[..20]);
            (tenantId, token) = (tenant.Id, t);
        }
        const string wrongToken = "bst_this-token-must-never-be-logged";
        var unknownUser = Guid.NewGuid();

        await using var serve = await ServeProcess.StartAsync(["--database", database, "--log-format", "json"],
            new Dictionary<string, string> { ["Logging__LogLevel__Npgsql"] = "Debug" });
        using var http = new HttpClient { BaseAddress = serve.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal(200, (int)(await http.GetAsync("/v1/bots")).StatusCode);
        Assert.Equal(404, (int)(await http.GetAsync($"/v1/users/{unknownUser}?token={token}")).StatusCode);
        using var stranger = new HttpClient { BaseAddress = serve.BaseAddress };
        stranger.DefaultRequestHeaders.Authorization = new("Bearer", wrongToken);
        Assert.Equal(401, (int)(await stranger.GetAsync("/v1/bots")).StatusCode);

        // The console logger writes on its own thread: wait (bounded) for the three lines.
        List<JsonElement> requests = [];
        for (var i = 0; i < 100; i++)
        {
            requests = Entries(serve.Output).Where(e => e.GetProperty("Category").GetString() == "BotStore.Server.RequestMetrics"
                && e.GetProperty("State").GetProperty("Route").GetString()!.StartsWith("/v1/", StringComparison.Ordinal)).ToList();
            if (requests.Count >= 3)
                break;
            await Task.Delay(100);
        }

        Assert.Equal(3, requests.Count);
        var ok = Assert.Single(requests, r => State(r, "Status") == "200");
        Assert.Equal(("GET", "/v1/bots", tenantId.ToString(System.Globalization.CultureInfo.InvariantCulture)), (State(ok, "Method"), State(ok, "Route").TrimEnd('/'), State(ok, "TenantId")));
        Assert.True(double.Parse(State(ok, "ElapsedMs"), System.Globalization.CultureInfo.InvariantCulture) > 0);
        var missing = Assert.Single(requests, r => State(r, "Status") == "404");
        Assert.Equal("/v1/users/{id}", State(missing, "Route")); // the template: no raw id, no query
        var refused = Assert.Single(requests, r => State(r, "Status") == "401");
        Assert.Equal(("/v1/bots", ""), (State(refused, "Route").TrimEnd('/'), State(refused, "TenantId")));
        foreach (var entry in requests)
            Assert.True(DateTimeOffset.TryParse(entry.GetProperty("Timestamp").GetString(), out var at) && at.Year >= 2024, entry.ToString());

        var output = serve.Output;
        Assert.DoesNotContain(token, output, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongToken, output, StringComparison.Ordinal);
        Assert.DoesNotContain(unknownUser.ToString(), output, StringComparison.Ordinal);
        // Npgsql logs through the host's logger factory: its categories appear in the same JSON stream.
        Assert.Contains(Entries(output), e => e.GetProperty("Category").GetString()!.StartsWith("Npgsql", StringComparison.Ordinal));
    }

    private static IEnumerable<JsonElement> Entries(string output) =>
        output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement);

    private static string State(JsonElement entry, string name) =>
        entry.GetProperty("State").TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : "";
}
