using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BotStore.Data;
using BotStore.Sharding.Moves;
using BotStore.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace BotStore.Tests.Moves;

/// <summary>
/// A move between two clusters while API clients keep appending over HTTP (Kestrel over the router, tenant traffic
/// through each shard's PgBouncer), with ids of their own and a retry of the same id on 503, as the API asks of them:
/// nothing acknowledged is lost or doubled, nothing stays behind, and no answer is a 5xx other than the fence's 503.
/// </summary>
public sealed class MoveUnderLoadTests(TwoShards shards, ITestOutputHelper output) : IClassFixture<TwoShards>
{
    private readonly TwoShards _shards = shards;

    [Fact]
    public async Task Every_acknowledged_message_is_on_the_target_exactly_once_and_the_fence_is_short()
    {
        await using var router = _shards.CreateRouter();
        await using var api = await ShardedApi.StartAsync(router);
        var (tenantId, client) = await api.NewTenantAsync("east");
        var (otherId, otherClient) = await api.NewTenantAsync("east");
        await using var east = _shards.East.CreateDirect();
        await using var west = _shards.West.CreateDirect();
        var sessions = new[] { await NewSessionAsync(client), await NewSessionAsync(client) };
        var otherSession = await NewSessionAsync(otherClient);

        var acked = new ConcurrentBag<Guid>();
        var otherAcked = new ConcurrentBag<Guid>();
        var (retries, failures) = (0, new ConcurrentBag<string>());
        using var stop = new CancellationTokenSource();
        async Task WriteAsync(HttpClient http, Guid session, ConcurrentBag<Guid> into)
        {
            while (!stop.IsCancellationRequested)
            {
                var id = Uuid7.New();
                while (true)
                {
                    using var response = await http.PostAsJsonAsync($"/v1/sessions/{session}/messages",
                        new { id, role = "user", message_type = "text", content = "hello" });
                    if (response.IsSuccessStatusCode)
                    {
                        into.Add(id);
                        break;
                    }
                    if (response.StatusCode != HttpStatusCode.ServiceUnavailable || response.Headers.RetryAfter is null)
                    {
                        failures.Add($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                        break;
                    }
                    // 503 with Retry-After (the fence): the client sends the same message, same id, again.
                    Interlocked.Increment(ref retries);
                    await Task.Delay(50);
                }
            }
        }
        var writers = sessions.Select(s => Task.Run(() => WriteAsync(client, s, acked)))
            .Append(Task.Run(() => WriteAsync(otherClient, otherSession, otherAcked))).ToArray();
        while (acked.Count < 200 && failures.IsEmpty)
            await Task.Delay(50);

        var mover = new TenantMover(router.Directory, [
            new MoveShard("east", east, MoveShard.ToConnInfo(_shards.East.DirectConnectionString)),
            new MoveShard("west", west, MoveShard.ToConnInfo(_shards.West.DirectConnectionString)),
        ], new TenantMoverOptions { DeleteBatchSize = 100 });
        var report = await mover.MoveAsync(tenantId, "west", new Progress<MoveProgress>(p => output.WriteLine($"{p.Step}: {p.Message}")));
        var atSwitch = acked.Count;
        // The server learns of the switch from its directory cache: writes go on, to the target, without a restart.
        while (acked.Count < atSwitch + 100 && failures.IsEmpty)
            await Task.Delay(50);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        output.WriteLine($"acknowledged {acked.Count} ({atSwitch} by the end of the move), {retries} retries on 503, fence {report.FenceMilliseconds:0} ms");
        Assert.Empty(failures);
        Assert.All(report.Tables, t => Assert.True(t.Matches, t.Table));
        Assert.InRange(report.FenceMilliseconds!.Value, 0, 5_000);
        var ids = acked.ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal((long)ids.Length, await CountAsync(west, "SELECT count(*) FROM message_history WHERE tenant_id = $1 AND id = ANY ($2)", tenantId, ids));
        Assert.Equal((long)ids.Length, await CountAsync(west, "SELECT count(*) FROM message_history WHERE tenant_id = $1", tenantId));
        Assert.Equal(0L, await CountAsync(east, "SELECT count(*) FROM message_history WHERE tenant_id = $1", tenantId));
        Assert.Equal(0L, await CountAsync(east, "SELECT count(*) FROM user_sessions WHERE tenant_id = $1", tenantId));
        // The other tenant was never fenced and stayed where it was, every write of it acknowledged and present.
        Assert.Equal((long)otherAcked.Count, await CountAsync(east, "SELECT count(*) FROM message_history WHERE tenant_id = $1", otherId));
        Assert.Equal("west", await router.Directory.FindAsync(tenantId));
        // The target's session counters agree with its messages (appends on both sides of the switch numbered alike).
        Assert.Equal((long)ids.Length, await CountAsync(west, "SELECT sum(message_count) FROM user_sessions WHERE tenant_id = $1", tenantId));
    }

    private static async Task<Guid> NewSessionAsync(HttpClient client)
    {
        var bot = await IdOfAsync(client, "/v1/bots", new { name = "helper", llm_provider = "anthropic" });
        var user = await IdOfAsync(client, "/v1/users", new { external_id = $"ext-{Guid.NewGuid():N}", display_name = "Ada" });
        return await IdOfAsync(client, "/v1/sessions", new { user_id = user, bot_id = bot, channel = "web", title = "load" });
    }

    private static async Task<Guid> IdOfAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("id").GetGuid();
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var cmd = db.CreateCommand(sql);
        foreach (var arg in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }
}
