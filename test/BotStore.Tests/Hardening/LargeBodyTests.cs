using System.Net;
using System.Net.Http.Headers;
using BotStore.Data;
using BotStore.Server;
using BotStore.Tests.Api;
using BotStore.Tests.Infrastructure;
using Npgsql;
using static BotStore.Tests.Hardening.Http;

namespace BotStore.Tests.Hardening;

/// <summary>
/// Large metadata, again and again, with clients that give up half-way, on a small pool: every acknowledged append is
/// stored and answered as such, an oversized value is a 413 problem that writes nothing, and afterwards every
/// connection is back and idle (none serves the next request in an unknown state).
/// </summary>
public sealed class LargeBodyTests : IAsyncLifetime
{
    private const int PoolSize = 3;
    private readonly TestDatabase _database = new();
    private NpgsqlDataSource _pool = null!;
    private WebApplication _app = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        _pool = new ConnectionSettings { MaxConnections = PoolSize, MinConnections = 0, ConnectionTimeoutSeconds = 5 }
            .CreateDataSource(_database.ConnectionString, "botstore-large-test");
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
    public async Task Large_metadata_repeated_with_aborted_clients_is_stored_exactly_as_acknowledged()
    {
        using var client = await TenantClientAsync();
        var w = await ApiWorld.CreateAsync(client);
        var big = $$"""{"blob":"{{new string('x', InputLimits.MaxJsonBytes - 20)}}"}""";
        var acknowledged = new List<Guid>();
        for (var i = 0; i < 12; i++)
        {
            // A client that gives up while its large request is under way.
            using (var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(1 + i % 4 * 3)))
            {
                try
                {
                    (await client.PostAsync($"/v1/sessions/{w.SessionId}/messages",
                        Body($$"""{"role":"user","content":"gave up","metadata":{{big}}}"""), impatient.Token)).Dispose();
                }
                catch (OperationCanceledException)
                {
                    // expected: the client went away
                }
            }
            var id = Guid.CreateVersion7();
            var answer = await OkAsync(await client.PostRaw($"/v1/sessions/{w.SessionId}/messages",
                $$"""{"id":"{{id}}","role":"user","content":"kept {{i}}","metadata":{{big}}}"""), HttpStatusCode.Created);
            Assert.Equal(id, answer.GetProperty("id").GetGuid());
            acknowledged.Add(id);
        }

        var tooBig = $$"""{"blob":"{{new string('x', InputLimits.MaxJsonBytes)}}"}""";
        await ProblemAsync(await client.PostRaw($"/v1/sessions/{w.SessionId}/messages", $$"""{"role":"user","content":"x","metadata":{{tooBig}}}"""),
            HttpStatusCode.RequestEntityTooLarge, $"the limit is {InputLimits.MaxJsonBytes}");
        await ProblemAsync(await client.PostRaw("/v1/messages/batch",
            $$"""{"messages":[{"session_id":"{{w.SessionId}}","role":"user","content":"x","metadata":{{tooBig}}}]}"""), HttpStatusCode.RequestEntityTooLarge);
        await ProblemAsync(await client.PostRaw("/v1/tasks", $$"""{"bot_id":"{{w.BotId}}","title":"t","payload":{{tooBig}}}"""), HttpStatusCode.RequestEntityTooLarge);

        // Every acknowledged append is stored once, with its metadata whole; the session's counter matches what is stored.
        foreach (var id in acknowledged)
        {
            var stored = await OkAsync(await client.GetAsync($"/v1/messages/{id}"));
            Assert.Equal(InputLimits.MaxJsonBytes - 20, stored.GetProperty("metadata").GetProperty("blob").GetString()!.Length);
        }
        var count = await _database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE session_id = $1", w.SessionId);
        Assert.Equal(count, await _database.ScalarAsync<int>("SELECT message_count FROM user_sessions WHERE id = $1", w.SessionId));
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE session_id = $1 AND content = 'x'", w.SessionId));

        // Another request is served at once, and no connection is left busy.
        await OkAsync(await client.GetAsync($"/v1/sessions/{w.SessionId}/messages?limit=5"));
        await using var busy = _pool.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'botstore-large-test' AND state <> 'idle' AND pid <> pg_backend_pid()");
        Assert.Equal(0L, (long)(await busy.ExecuteScalarAsync())!);
    }

    private async Task<HttpClient> TenantClientAsync()
    {
        var (_, token) = await new TenantStore(_pool).CreateAsync($"large-{Guid.NewGuid():N}"[..20]);
        var client = new HttpClient { BaseAddress = _base };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
