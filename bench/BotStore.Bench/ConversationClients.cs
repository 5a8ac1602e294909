using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using BotStore.Server;
using BotStore.Data;
using BotStore.Enums;
using Microsoft.AspNetCore.Builder;

namespace BotStore.Bench;

/// <summary>
/// The session-history read and the message append as an application makes them: through the library's
/// <see cref="MessageStore"/>, and through the HTTP API of an in-process Kestrel (<see cref="ServeApp"/>) on the
/// bench's database. The same sessions, content and page size as <see cref="Workloads"/>' SQL.
/// </summary>
internal sealed class ConversationClients : IAsyncDisposable
{
    private const int PageSize = 50;
    private static readonly string AppendBody =
        $$"""{"role":"user","message_type":"text","content":{{System.Text.Json.JsonSerializer.Serialize(Workloads.AppendContent)}}}""";

    private readonly MessageStore _store;
    private readonly WebApplication _app;
    private readonly Uri _api;
    private readonly IReadOnlyDictionary<long, string> _tokens;
    private readonly List<HttpClient> _clients = [];

    private ConversationClients(MessageStore store, WebApplication app, Uri api, IReadOnlyDictionary<long, string> tokens)
    {
        (_store, _app, _api, _tokens) = (store, app, api, tokens);
    }

    /// <summary>Starts the API on 127.0.0.1 (a free port) and issues a token for each tenant of the sessions.</summary>
    public static async Task<ConversationClients> StartAsync(BenchContext context, IReadOnlyList<BenchSession> sessions, CancellationToken ct)
    {
        var tenants = new TenantStore(context.DataSource);
        // loadgen makes some tenants inactive, and the API refuses their tokens: the sessions are the ones pgbench uses.
        await context.ExecuteAsync("UPDATE tenants SET is_active = true WHERE id = ANY ($1)", ct, sessions.Select(s => s.TenantId).Distinct().ToArray());
        var tokens = new Dictionary<long, string>();
        foreach (var tenant in sessions.Select(s => s.TenantId).Distinct())
            tokens[tenant] = await tenants.RotateTokenAsync(tenant, ct);
        var port = FreePort();
        // The per-tenant limits (500 requests a second, bursts of 1,000, 32 at a time) are fairness between tenants,
        // not capacity: on a small data set (10 tenants at 100K messages) runs of 3 s or more went over them and failed
        // with 429. The bench measures what the API can serve, so its limits are far above what the clients can ask.
        var app = ServeApp.Build(context.TenantTraffic, new ServeOptions
        {
            Urls = $"http://127.0.0.1:{port}",
            TenantRequestsPerSecond = 1_000_000,
            TenantBurst = 1_000_000,
            TenantConcurrency = 100_000,
        }, ["--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync(ct);
        BenchContext.Say($"API on http://127.0.0.1:{port}");
        return new ConversationClients(new MessageStore(context.TenantTraffic), app, new Uri($"http://127.0.0.1:{port}/"), tokens);
    }

    /// <summary>A client's history reads through <see cref="MessageStore.HistoryAsync"/>: a page of 50, newest first.</summary>
    public Task<Func<Task>> LibraryHistory(IReadOnlyList<BenchSession> sessions, int client) => StoreHistory(_store, sessions, client);

    /// <summary>A client's history reads through <paramref name="store"/> (any routing: direct, through PgBouncer).</summary>
    public static Task<Func<Task>> StoreHistory(MessageStore store, IReadOnlyList<BenchSession> sessions, int client) => Warm(client, sessions, s => async () =>
    {
        var page = await store.HistoryAsync(s().TenantId, s().Id, newestFirst: true, limit: PageSize);
        foreach (var m in page.Items)
            _ = m.Content;
    });

    /// <summary>A client's appends through <see cref="MessageStore.AppendAsync"/>.</summary>
    public Task<Func<Task>> LibraryAppend(IReadOnlyList<BenchSession> sessions, int client) => StoreAppend(_store, sessions, client);

    /// <summary>A client's appends through <paramref name="store"/>.</summary>
    public static Task<Func<Task>> StoreAppend(MessageStore store, IReadOnlyList<BenchSession> sessions, int client) => Warm(client, sessions, s => async () =>
        await store.AppendAsync(s().TenantId, new NewMessage(s().Id, MessageRole.User, Workloads.AppendContent)));

    /// <summary>A client's history reads as GET /v1/sessions/{id}/messages?limit=50&amp;order=desc, the body read whole.</summary>
    public Task<Func<Task>> ApiHistory(IReadOnlyList<BenchSession> sessions, int client)
    {
        var http = Client();
        return Warm(client, sessions, s => () => SendAsync(http, HttpMethod.Get, $"v1/sessions/{s().Id}/messages?limit={PageSize}&order=desc", s().TenantId, null));
    }

    /// <summary>A client's appends as POST /v1/sessions/{id}/messages.</summary>
    public Task<Func<Task>> ApiAppend(IReadOnlyList<BenchSession> sessions, int client)
    {
        var http = Client();
        return Warm(client, sessions, s => () => SendAsync(http, HttpMethod.Post, $"v1/sessions/{s().Id}/messages", s().TenantId, AppendBody));
    }

    /// <summary>Closes the HTTP clients of the runs so far, so idle connections do not pile up from run to run.</summary>
    public void CloseClients()
    {
        lock (_clients)
        {
            foreach (var http in _clients)
                http.Dispose();
            _clients.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        CloseClients();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // Each client picks a random session of the set per call (seeded by the client, as the SQL clients are), and makes
    // one call before the clock starts: it opens its pooled connection (and its HTTP connection).
    private static async Task<Func<Task>> Warm(int client, IReadOnlyList<BenchSession> sessions, Func<Func<BenchSession>, Func<Task>> operation)
    {
        var random = new Random(client);
        var current = sessions[0];
        var call = operation(() => current);
        Func<Task> run = () =>
        {
            current = sessions[random.Next(sessions.Count)];
            return call();
        };
        await run();
        return run;
    }

    private HttpClient Client()
    {
        var http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1024,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
        })
        { BaseAddress = _api };
        lock (_clients)
            _clients.Add(http);
        return http;
    }

    private async Task SendAsync(HttpClient http, HttpMethod method, string path, long tenant, string? json)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _tokens[tenant]);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        if (!response.IsSuccessStatusCode)
            throw new BotStoreException($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
