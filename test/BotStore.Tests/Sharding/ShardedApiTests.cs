using System.Net;
using System.Net.Http.Json;
using BotStore.Data;
using BotStore.Enums;
using BotStore.Server;
using BotStore.Sharding;
using BotStore.Tests.Infrastructure;

namespace BotStore.Tests.Sharding;

/// <summary>
/// The API (Kestrel) over two shards, tenant traffic through each shard's PgBouncer in transaction mode: a shard that
/// stops fails only its own tenants (503 with Retry-After) and comes back without a restart; a PgBouncer killed and
/// started under load loses no acknowledged write.
/// </summary>
public sealed class ShardedApiTests(TwoShards shards) : IClassFixture<TwoShards>
{
    [Fact]
    public async Task A_stopped_shard_answers_503_for_its_tenants_only_and_recovers_without_a_restart()
    {
        await using var router = shards.CreateRouter();
        await using var api = await ApiAsync(router);
        var east = await api.TenantAsync("east");
        var west = await api.TenantAsync("west");
        Assert.Equal(HttpStatusCode.Created, (await CreateUserAsync(west)).StatusCode);

        await shards.StopWestAsync();
        try
        {
            var down = await CreateUserAsync(west);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.NotNull(down.Headers.RetryAfter);
            Assert.Contains("shard 'west'", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await east.GetAsync("/v1/users")).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await CreateUserAsync(east)).StatusCode);
        }
        finally
        {
            await shards.StartWestAsync();
        }
        // The same server, not restarted: west's tenant is served again once its pool reconnects.
        HttpStatusCode status = 0;
        for (var attempt = 0; attempt < 60 && status != HttpStatusCode.Created; attempt++)
        {
            status = (await CreateUserAsync(west)).StatusCode;
            if (status != HttpStatusCode.Created)
                await Task.Delay(500);
        }
        Assert.Equal(HttpStatusCode.Created, status);
    }

    [Fact]
    public async Task PgBouncer_restarted_under_load_loses_no_acknowledged_write()
    {
        await using var router = shards.CreateRouter();
        await using var api = await ApiAsync(router);
        var client = await api.TenantAsync("east");
        var session = await SessionAsync(router, client);
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        var serverErrors = 0;
        using var stop = new CancellationTokenSource();

        async Task WriteAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var id = Uuid7.New();
                // A client retries with its own id until the write is acknowledged (201, or 200 for a retry that was stored).
                for (var attempt = 0; attempt < 100; attempt++)
                {
                    try
                    {
                        var response = await client.PostAsJsonAsync($"/v1/sessions/{session}/messages",
                            new { id = id.ToString(), role = "user", message_type = "text", content = "load" });
                        if (response.IsSuccessStatusCode)
                        {
                            acknowledged.Add(id);
                            break;
                        }
                        if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                            Interlocked.Increment(ref serverErrors);
                    }
                    catch (HttpRequestException)
                    {
                    }
                    await Task.Delay(50);
                }
            }
        }

        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(WriteAsync)).ToArray();
        await Task.Delay(1000);
        var before = acknowledged.Count;
        await shards.East.Bouncer.RestartAsync();
        await Task.Delay(1500);
        stop.Cancel();
        await Task.WhenAll(writers);

        Assert.Equal(0, serverErrors);
        Assert.True(acknowledged.Count > before, "no write was acknowledged after the restart");
        var stored = await shards.East.ScalarAsync<long>(
            "SELECT count(*) FROM message_history WHERE session_id = $1 AND id = ANY ($2)", session, acknowledged.ToArray());
        Assert.Equal(acknowledged.Count, (int)stored);
        Assert.Equal(0L, await shards.West.ScalarAsync<long>("SELECT count(*) FROM message_history WHERE session_id = $1", session));
    }

    [Fact]
    public async Task A_tenants_requests_never_reach_the_other_shard_as_its_statement_counters_show()
    {
        await using var router = shards.CreateRouter();
        await using var api = await ApiAsync(router);
        var west = await api.TenantAsync("west");
        var east = await api.TenantAsync("east");
        var session = await SessionAsync(router, east);
        // Every tenant transaction enters its tenant (the scope statement): count those on each shard.
        const string entered = """
            SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
            WHERE query LIKE '%botstore_enter_tenant%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            """;
        var westBefore = await shards.West.ScalarAsync<long>(entered);
        var eastBefore = await shards.East.ScalarAsync<long>(entered);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await east.PostAsJsonAsync($"/v1/sessions/{session}/messages",
                new { role = "user", message_type = "text", content = $"m{i}" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await east.GetAsync($"/v1/sessions/{session}/messages")).StatusCode);
        }
        Assert.Equal(westBefore, await shards.West.ScalarAsync<long>(entered));
        Assert.True(await shards.East.ScalarAsync<long>(entered) >= eastBefore + 40);
        // And the other way round: the west tenant's requests leave east's counter alone.
        eastBefore = await shards.East.ScalarAsync<long>(entered);
        Assert.Equal(HttpStatusCode.OK, (await west.GetAsync("/v1/users")).StatusCode);
        Assert.Equal(eastBefore, await shards.East.ScalarAsync<long>(entered));
        Assert.True(await shards.West.ScalarAsync<long>(entered) > westBefore);
    }

    private static Task<HttpResponseMessage> CreateUserAsync(HttpClient client) =>
        client.PostAsJsonAsync("/v1/users", new { external_id = $"u-{Guid.NewGuid():N}" });

    private static async Task<Guid> SessionAsync(ShardRouter router, HttpClient client)
    {
        var tenantId = (long)client.DefaultRequestHeaders.GetValues("X-Test-Tenant").Select(long.Parse).Single();
        var bot = await new BotRegistry(router).CreateAsync(tenantId, "helper", LlmProvider.Anthropic);
        var user = await new UserStore(router).CreateAsync(tenantId, "ana");
        return (await new SessionStore(router).CreateAsync(tenantId, user.Id, bot.Id, ChannelType.Web)).Id;
    }

    private static Task<ShardedApi> ApiAsync(ShardRouter router) => ShardedApi.StartAsync(router);
}
