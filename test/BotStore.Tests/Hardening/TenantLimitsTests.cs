using System.Net;
using System.Net.Http.Headers;
using BotStore.Data;
using BotStore.Server;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>Per-tenant request limits (429 with Retry-After, other tenants unaffected) and /readyz reporting an exhausted pool or an unreachable database.</summary>
public sealed class TenantLimitsTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_tenant_over_its_rate_gets_429_with_retry_after_and_another_tenant_is_served()
    {
        await using var app = await StartAsync(db.DataSource, new ServeOptions { TenantBurst = 3, TenantRequestsPerSecond = 1 });
        using var greedy = await ClientAsync(app, db.DataSource);
        using var other = await ClientAsync(app, db.DataSource);
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 40 && refused is null; i++)
        {
            var response = await greedy.GetAsync("/v1/users");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                refused = response;
        }
        Assert.NotNull(refused);
        var problem = await ProblemAsync(refused, HttpStatusCode.TooManyRequests, "this tenant is over its limit");
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.ToString());
        await OkAsync(await other.GetAsync("/v1/users"));
        // Health is not a tenant's request.
        await OkAsync(await app.Client.GetAsync("/healthz"));
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Readyz_reports_an_exhausted_pool_and_then_recovers()
    {
        await using var pool = new ConnectionSettings { MaxConnections = 2, MinConnections = 0, ConnectionTimeoutSeconds = 30 }
            .CreateDataSource(db.ConnectionString, "botstore-ready-test");
        await using var app = await StartAsync(pool, new ServeOptions { ReadyTimeout = TimeSpan.FromMilliseconds(500) });
        // One connection opened and given back first: on a loaded machine a new backend's start-up alone outlasted the
        // 0.5 s (a CI run), and this test is about a pool with none free, not about opening one.
        await (await pool.OpenConnectionAsync()).DisposeAsync();
        await OkAsync(await app.Client.GetAsync("/readyz"));
        var held = new List<NpgsqlConnection> { await pool.OpenConnectionAsync(), await pool.OpenConnectionAsync() };
        await ProblemAsync(await app.Client.GetAsync("/readyz"), HttpStatusCode.ServiceUnavailable, "the connection pool is exhausted");
        foreach (var conn in held)
            await conn.DisposeAsync();
        await OkAsync(await app.Client.GetAsync("/readyz"));
    }

    [Fact]
    public async Task Readyz_reports_an_unreachable_database()
    {
        var target = new NpgsqlConnectionStringBuilder(db.ConnectionString);
        await using var relay = new TcpRelay(target.Host!, target.Port);
        relay.Start();
        var through = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Port = relay.Port }.ConnectionString;
        await using var pool = new ConnectionSettings { MinConnections = 0, ConnectionTimeoutSeconds = 2 }.CreateDataSource(through, "botstore-relay");
        await using var app = await StartAsync(pool, new ServeOptions());
        await OkAsync(await app.Client.GetAsync("/readyz"));
        relay.Stop();
        pool.Clear();
        await ProblemAsync(await app.Client.GetAsync("/readyz"), HttpStatusCode.ServiceUnavailable, "the database is unreachable");
    }

    // Scheduled operations get their own pool, as serve gives them: a start-up job holding one of a 2-connection
    // tenant pool made the exhausted-pool test wait for it (seen in a clean-clone run).
    private async Task<Server> StartAsync(NpgsqlDataSource dataSource, ServeOptions options)
    {
        var app = ServeApp.Build(dataSource, options with { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" }, operations: db.DataSource);
        await app.StartAsync();
        return new Server(app, new HttpClient { BaseAddress = new Uri(app.Urls.First()) });
    }

    private static async Task<HttpClient> ClientAsync(Server server, NpgsqlDataSource dataSource)
    {
        var (_, token) = await new TenantStore(dataSource).CreateAsync($"limit-{Guid.NewGuid():N}"[..20]);
        var client = new HttpClient { BaseAddress = server.Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private sealed record Server(WebApplication App, HttpClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
