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
/// The database going away under a running API (a relay in front of it is cut and restored): reads and writes answer
/// 503 with Retry-After, never 500, and every write the API acknowledged is stored exactly once.
/// </summary>
public sealed class ApiOutageTests(TestDatabase db) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task A_lost_database_is_503_with_retry_after_and_no_acknowledged_write_is_lost()
    {
        await using var relay = new TcpRelay("127.0.0.1", new NpgsqlConnectionStringBuilder(db.ConnectionString).Port);
        relay.Start();
        var viaRelay = new NpgsqlConnectionStringBuilder(db.ConnectionString) { Port = relay.Port, Timeout = 2 }.ConnectionString;
        await using var dataSource = ConnectionSettings.Default.CreateDataSource(viaRelay, "botstore-outage-test");
        await using var app = ServeApp.Build(dataSource, new ServeOptions { Urls = $"http://127.0.0.1:{TestCluster.FreePort()}" });
        await app.StartAsync();
        var (_, token) = await new TenantStore(db.DataSource).CreateAsync("outage");
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var w = await ApiWorld.CreateAsync(client);
        var url = $"/v1/sessions/{w.SessionId}/messages";

        // Writers retry each message (with its own id) until it is acknowledged, as a client should.
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<(Guid Id, int Index)>();
        var unavailable = 0;
        async Task WriteAsync(int writer)
        {
            for (var i = 0; i < 15; i++)
            {
                var id = Guid.CreateVersion7();
                while (true)
                {
                    var response = await client.PostAsJsonAsync(url, new { id, role = "user", content = $"{writer}:{i}" });
                    if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                    {
                        acknowledged.Add((id, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message_index").GetInt32()));
                        break;
                    }
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Assert.NotNull(response.Headers.RetryAfter);
                    Interlocked.Increment(ref unavailable);
                    // As a client should: wait as Retry-After says (capped at 1 s here). After a connection failure the
                    // server fails fast for a few seconds, and a client that retried at once would meet the tenant's
                    // rate limit (429) instead.
                    var after = response.Headers.RetryAfter.Delta ?? TimeSpan.FromSeconds(1);
                    await Task.Delay(after < TimeSpan.FromSeconds(1) ? after : TimeSpan.FromSeconds(1));
                }
            }
        }
        var writers = Enumerable.Range(0, 4).Select(WriteAsync).ToList();
        while (acknowledged.Count < 10)
            await Task.Delay(10);

        relay.Stop();
        var read = await client.GetAsync(url);
        var write = await client.PostAsJsonAsync(url, new { role = "user", content = "while down" });
        var batch = await client.PostAsJsonAsync("/v1/messages/batch", new { messages = new[] { new { session_id = w.SessionId, role = "user", content = "x" } } });
        foreach (var response in new[] { read, write, batch })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }
        await Task.Delay(500);
        relay.Start();
        await Task.WhenAll(writers);

        Assert.True(unavailable > 0, "the writers saw the outage");
        Assert.Equal(60, acknowledged.Count);
        var stored = await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE session_id = $1 AND id = ANY($2)",
            w.SessionId, acknowledged.Select(a => a.Id).ToArray());
        Assert.Equal(60L, stored);
        // Nothing half-written either: the counter matches the rows, and indexes are gap-free.
        Assert.Equal(Enumerable.Range(0, 60), acknowledged.Select(a => a.Index).Order());
        Assert.Equal(60L, await db.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE session_id = $1", w.SessionId));
        Assert.Equal(60, await db.ScalarAsync<int>("SELECT message_count FROM user_sessions WHERE id = $1", w.SessionId));
        await app.StopAsync();
    }
}
