using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BotStore.Server;
using BotStore.Data;

namespace BotStore.Tests.Infrastructure;

/// <summary>
/// The real API (Kestrel on 127.0.0.1, a free port) over a fresh migrated database, for one test class
/// (<c>IClassFixture&lt;ApiServer&gt;</c>). <see cref="NewTenantAsync"/> gives an HttpClient authenticated as a new tenant.
/// </summary>
public sealed class ApiServer : IAsyncLifetime
{
    private readonly TestDatabase _database = new();
    private WebApplication? _app;

    /// <summary>The database behind the API.</summary>
    public TestDatabase Database => _database;

    /// <summary>The base address, e.g. http://127.0.0.1:41234.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The API's JSON options (snake_case, enum names).</summary>
    public static JsonSerializerOptions Json { get; } = CreateJson();

    /// <summary>Options the server runs with; tests may read the limits.</summary>
    public ServeOptions Options { get; private set; } = new();

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        Options = new ServeOptions { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" };
        _app = ServeApp.Build(_database.DataSource, Options);
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
        await _database.DisposeAsync();
    }

    /// <summary>A client with no token.</summary>
    public HttpClient Anonymous() => new() { BaseAddress = BaseAddress };

    /// <summary>Creates a tenant and returns its id and a client that sends its token.</summary>
    public async Task<(long TenantId, HttpClient Client)> NewTenantAsync(string? name = null)
    {
        var (tenant, token) = await new TenantStore(_database.DataSource).CreateAsync(name ?? $"tenant-{Guid.NewGuid():N}"[..20]);
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (tenant.Id, client);
    }

    /// <summary>Reads a JSON answer with the API's options.</summary>
    public static async Task<T> ReadAsync<T>(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    private static JsonSerializerOptions CreateJson()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ServeApp.Configure(json);
        return json;
    }
}
