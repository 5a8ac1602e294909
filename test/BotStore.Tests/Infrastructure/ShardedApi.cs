using System.Globalization;
using System.Net.Http.Headers;
using BotStore.Data;
using BotStore.Server;
using BotStore.Sharding;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// The API (Kestrel on a free port) over a router a test made, e.g. over <see cref="TwoShards"/>; tenants are created
/// on the shard the test names and get an HttpClient holding their bearer token (and their id in X-Test-Tenant, which
/// the server ignores). Disposing stops the server; the router stays the caller's.
/// </summary>
public sealed class ShardedApi(WebApplication app, ShardRouter router) : IAsyncDisposable
{
    public static async Task<ShardedApi> StartAsync(ShardRouter router)
    {
        var app = ServeApp.Build(router, new ServeOptions { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" });
        await app.StartAsync();
        return new ShardedApi(app, router);
    }

    /// <summary>A client authenticated with an administrator token (for /admin, /metrics).</summary>
    public HttpClient Admin(string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A new tenant on <paramref name="shard"/>, with a client authenticated as it.</summary>
    public async Task<HttpClient> TenantAsync(string shard) => (await NewTenantAsync(shard)).Client;

    /// <summary>A new tenant on <paramref name="shard"/>: its id and a client authenticated as it.</summary>
    public async Task<(long TenantId, HttpClient Client)> NewTenantAsync(string shard)
    {
        var (tenant, token) = await new TenantStore(router).CreateAsync($"api-{Guid.NewGuid():N}"[..20], shard);
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        client.DefaultRequestHeaders.Add("X-Test-Tenant", tenant.Id.ToString(CultureInfo.InvariantCulture));
        return (tenant.Id, client);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
