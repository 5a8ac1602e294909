using System.Net.Http.Headers;
using BotStore.Data;
using BotStore.Server;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Hardening;

/// <summary>
/// The real API over a fresh database on a pool of a few connections (named, so tests can look them up in
/// pg_stat_activity): where a leaked or broken connection shows at once.
/// </summary>
internal sealed class SmallPoolServer(int poolSize, string applicationName, ServeOptions? options = null) : IAsyncDisposable
{
    private readonly TestDatabase _database = new();
    private WebApplication? _app;

    public TestDatabase Database => _database;

    public NpgsqlDataSource Pool { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task StartAsync()
    {
        await _database.InitializeAsync();
        Pool = new ConnectionSettings { MaxConnections = poolSize, MinConnections = 0, ConnectionTimeoutSeconds = 5 }
            .CreateDataSource(_database.ConnectionString, applicationName);
        _app = ServeApp.Build(Pool, (options ?? new ServeOptions()) with { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" });
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
    }

    /// <summary>A new tenant and a client that sends its token.</summary>
    public async Task<(long TenantId, HttpClient Client)> TenantClientAsync()
    {
        var (tenant, token) = await new TenantStore(Pool).CreateAsync($"{applicationName}-{Guid.NewGuid():N}"[..20]);
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (tenant.Id, client);
    }

    /// <summary>Connections of this pool that are not idle (a request in flight, or one left behind).</summary>
    public async Task<long> BusyConnectionsAsync()
    {
        await using var busy = Pool.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle' AND pid <> pg_backend_pid()");
        busy.Parameters.Add(new NpgsqlParameter { Value = applicationName });
        return (long)(await busy.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (Pool is not null)
            await Pool.DisposeAsync();
        await _database.DisposeAsync();
    }
}
