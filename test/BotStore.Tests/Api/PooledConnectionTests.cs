using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BotStore.Server;
using BotStore.Data;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Api;

/// <summary>
/// Every failing request gives its pooled connection back. The API runs on a pool of
/// <see cref="PoolSize"/> connections; each kind of failure is sent more times than that, and then another
/// tenant's request must still be served. A leaked connection per failure would leave that request waiting for a
/// connection until the pool's timeout and answering 503.
/// </summary>
public sealed class PooledConnectionTests : IAsyncLifetime
{
    private const int PoolSize = 4;
    private readonly TestDatabase _database = new();
    private NpgsqlDataSource _pool = null!;
    private WebApplication _app = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        // Without the reset, as serve's tenant pool: what a failed request leaves on its connection is not cleared on return.
        _pool = new ConnectionSettings { MaxConnections = PoolSize, MinConnections = 0, ConnectionTimeoutSeconds = 2, ResetOnClose = false }
            .CreateDataSource(_database.ConnectionString, "botstore-pool-test");
        _app = ServeApp.Build(_pool, new ServeOptions { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" });
        await _app.StartAsync();
        _base = new Uri(_app.Urls.First());
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _pool.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Failures_beyond_the_pool_size_leave_the_pool_serving_other_tenants()
    {
        using var attacker = await TenantClientAsync();
        using var bystander = await TenantClientAsync();
        var world = await ApiWorld.CreateAsync(attacker);
        var existing = await Json(await attacker.PostAsJsonAsync("/v1/users", new { external_id = "taken" }));
        Assert.Equal("taken", existing.GetProperty("external_id").GetString());
        (await attacker.PostAsJsonAsync($"/v1/bots/{world.BotId}/channels", new { channel = "web" })).Dispose();

        // One request per kind of failure that reaches the database: a unique key, a foreign key, a missing row,
        // a bad state transition, text PostgreSQL refuses, a duplicate channel, a bulk batch refused once its sessions are locked.
        (string Kind, Func<Task<HttpResponseMessage>> Send)[] failures =
        [
            ("unique external_id", () => attacker.PostAsJsonAsync("/v1/users", new { external_id = "taken" })),
            ("foreign key user_id", () => attacker.PostAsJsonAsync("/v1/sessions",
                new { user_id = Guid.CreateVersion7(), bot_id = world.BotId, channel = "web" })),
            ("missing session", () => attacker.PostAsJsonAsync($"/v1/sessions/{Guid.CreateVersion7()}/messages",
                new { role = "user", content = "to nowhere" })),
            ("duplicate channel", () => attacker.PostAsJsonAsync($"/v1/bots/{world.BotId}/channels", new { channel = "web" })),
            ("batch naming a missing session", () => attacker.PostAsJsonAsync("/v1/messages/batch",
                new { messages = new[] { new { session_id = Guid.CreateVersion7(), role = "user", content = "to nowhere" } } })),
            ("NUL in text", () => attacker.PostAsJsonAsync("/v1/users", new { external_id = "nul\u0000here" })),
        ];
        foreach (var (kind, send) in failures)
        {
            for (var i = 0; i < PoolSize * 3; i++)
            {
                using var refused = await send();
                // Refused, but not for want of a connection (that would be 503).
                Assert.True((int)refused.StatusCode >= 400 && refused.StatusCode != HttpStatusCode.ServiceUnavailable,
                    $"{kind}: {refused.StatusCode}");
            }

            using var served = await bystander.PostAsJsonAsync("/v1/users", new { external_id = $"after {kind}" });
            Assert.True(served.StatusCode == HttpStatusCode.Created, $"after {PoolSize * 3} '{kind}' failures another tenant got {served.StatusCode}");
        }

        await using var busy = _pool.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'botstore-pool-test' AND state <> 'idle' AND pid <> pg_backend_pid()");
        Assert.Equal(0L, (long)(await busy.ExecuteScalarAsync())!);
    }

    private async Task<HttpClient> TenantClientAsync()
    {
        var (_, token) = await new TenantStore(_pool).CreateAsync($"pool-{Guid.NewGuid():N}"[..20]);
        var client = new HttpClient { BaseAddress = _base };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>(ApiServer.Json);
}
