using BotStore.Tooling.PgBouncer;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BotStore.Server;
using BotStore.Data;
using BotStore.Sharding;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// The real API (Kestrel on 127.0.0.1, a free port) for one test class (<c>IClassFixture&lt;ApiServer&gt;</c>), run
/// as production runs it with shards: two shards, each a fresh migrated database behind its own real PgBouncer in
/// transaction mode (tenant traffic through it, nothing prepared, no reset; owner work direct), routed by the tenant
/// directory. <see cref="NewTenantAsync"/> gives an HttpClient authenticated as a new tenant of <see cref="Database"/>
/// (the directory shard); any answer of 500 or more to these clients fails the request that got it, and so the test.
/// </summary>
public sealed class ApiServer : IAsyncLifetime
{
    private readonly TestDatabase _database = new();
    private readonly TestDatabase _other = new();
    private readonly List<PgBouncerProcess> _bouncers = [];
    private ShardRouter? _router;
    private WebApplication? _app;

    /// <summary>The database behind the API.</summary>
    public TestDatabase Database => _database;

    /// <summary>The base address, e.g. http://127.0.0.1:41234.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The API's JSON options (snake_case, enum names).</summary>
    public static JsonSerializerOptions Json { get; } = CreateJson();

    /// <summary>Options the server runs with; tests may read the limits.</summary>
    public ServeOptions Options { get; private set; } = new();

    /// <summary>The router the API runs with (tenant traffic through PgBouncer).</summary>
    public ShardRouter Router => _router ?? throw new InvalidOperationException("not initialised");

    public async Task InitializeAsync()
    {
        await Task.WhenAll(_database.InitializeAsync(), _other.InitializeAsync());
        var shards = new List<Shard>();
        foreach (var (name, db) in new[] { ("east", _database), ("west", _other) })
        {
            var bouncer = await TestPgBouncer.StartAsync(db.ConnectionString, 20);
            _bouncers.Add(bouncer);
            var pooled = (ConnectionSettings.Default with { MinConnections = 0, ThroughPgBouncer = true }).CreateDataSource(bouncer.ConnectionString, "botstore-api-tests");
            shards.Add(new Shard(name, pooled, db.DataSource));
        }
        _router = new ShardRouter(shards);
        Options = new ServeOptions { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" };
        _app = ServeApp.Build(_router, Options);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        foreach (var shard in _router?.Shards ?? [])
            await shard.Tenants.DisposeAsync();
        foreach (var bouncer in _bouncers)
            await bouncer.DisposeAsync();
        await _other.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>A client with no token; an answer of 500 or more throws.</summary>
    public HttpClient Anonymous() => new(new ServerErrorCounter() { InnerHandler = new HttpClientHandler() }) { BaseAddress = BaseAddress };

    /// <summary>Creates a tenant and returns its id and a client that sends its token.</summary>
    public async Task<(long TenantId, HttpClient Client)> NewTenantAsync(string? name = null)
    {
        var (tenant, token) = await new TenantStore(Router).CreateAsync(name ?? $"tenant-{Guid.NewGuid():N}"[..20], "east");
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (tenant.Id, client);
    }

    /// <summary>Reads a JSON answer with the API's options.</summary>
    public static async Task<T> ReadAsync<T>(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    // Fails the request (and so the test) on what no client of these tests should get: any 5xx.
    private sealed class ServerErrorCounter : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = await base.SendAsync(request, ct);
            if ((int)response.StatusCode < 500)
                return response;
            var what = $"{request.Method} {request.RequestUri?.PathAndQuery}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}";
            throw new InvalidOperationException($"the API answered with a server error: {what}");
        }
    }

    private static JsonSerializerOptions CreateJson()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ServeApp.Configure(json);
        return json;
    }
}
