using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
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
    public async Task A_stopped_shard_answers_503_for_its_tenants_only_fails_fast_and_recovers_without_a_restart()
    {
        // The fail-fast interval runs on a clock the test moves, so nothing here depends on how fast the machine is.
        var clock = new ManualClock();
        await using var router = shards.CreateRouter(time: clock);
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
            // That connection failure opened west's circuit: its tenants are now answered at once, without trying the shard.
            Assert.True(router.IsFailingFast("west"));
            var fast = await CreateUserAsync(west);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, fast.StatusCode);
            Assert.True(fast.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Equal("application/problem+json", fast.Content.Headers.ContentType?.MediaType);
            var body = await fast.Content.ReadAsStringAsync();
            using (var problem = JsonDocument.Parse(body))
            {
                Assert.True(problem.RootElement.TryGetProperty("shard", out var named), body);
                Assert.Equal("west", named.GetString());
                var detail = problem.RootElement.GetProperty("detail").GetString();
                Assert.Contains("shard 'west' is unavailable", detail, StringComparison.Ordinal);
                Assert.Contains("failing fast", detail, StringComparison.Ordinal);
            }
            Assert.False(router.IsFailingFast("east"));
            Assert.Equal(HttpStatusCode.OK, (await east.GetAsync("/v1/users")).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await CreateUserAsync(east)).StatusCode);
        }
        finally
        {
            await shards.StartWestAsync();
        }
        // The same server, not restarted: once the interval has passed, one request tries west again; when its pool
        // reconnects, west's tenant is served again.
        HttpStatusCode status = 0;
        for (var attempt = 0; attempt < 60 && status != HttpStatusCode.Created; attempt++)
        {
            clock.Advance(router.FailFastFor);
            status = (await CreateUserAsync(west)).StatusCode;
            if (status != HttpStatusCode.Created)
                await Task.Delay(500);
        }
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.False(router.IsFailingFast("west"));
    }

    [Fact]
    public async Task Admin_views_gather_every_shard_label_each_figure_and_show_a_stopped_shard_as_its_error()
    {
        await using var router = shards.CreateRouter();
        await using var api = await ApiAsync(router);
        await api.TenantAsync("east");
        await api.TenantAsync("west");
        using var admin = api.Admin(await new TenantStore(router).RotateAdminTokenAsync());

        using (var tables = JsonDocument.Parse(await admin.GetStringAsync("/admin/db/tables")))
        {
            var history = tables.RootElement.EnumerateArray().Where(t => t.GetProperty("name").GetString() == "message_history");
            Assert.Equal(["east", "west"], history.Select(t => t.GetProperty("shard").GetString()));
        }
        using (var tenants = JsonDocument.Parse(await admin.GetStringAsync("/admin/db/tenants?limit=1000")))
        {
            var top = tenants.RootElement.GetProperty("top").EnumerateArray().ToList();
            Assert.Contains(top, t => t.GetProperty("shard").GetString() == "west");
            Assert.Contains(top, t => t.GetProperty("shard").GetString() == "east");
            Assert.Equal(["east", "west"], tenants.RootElement.GetProperty("shards").EnumerateArray().Select(s => s.GetProperty("shard").GetString()));
        }
        using (var status = JsonDocument.Parse(await admin.GetStringAsync("/admin/db/shards")))
        {
            var rows = status.RootElement.EnumerateArray().ToList();
            Assert.Equal(["east", "west"], rows.Select(r => r.GetProperty("shard").GetString()));
            Assert.All(rows, r => Assert.True(r.GetProperty("reachable").GetBoolean()));
            Assert.All(rows, r => Assert.True(r.GetProperty("directory_tenants").GetInt64() >= 1));
        }

        await shards.StopWestAsync();
        try
        {
            // One shard's failure is that shard's error; the view still answers with the other shard's figures.
            var tables = await admin.GetAsync("/admin/db/tables");
            Assert.Equal(HttpStatusCode.OK, tables.StatusCode);
            using (var rows = JsonDocument.Parse(await tables.Content.ReadAsStringAsync()))
            {
                var west = rows.RootElement.EnumerateArray().Single(r => r.GetProperty("shard").GetString() == "west");
                Assert.False(string.IsNullOrEmpty(west.GetProperty("error").GetString()));
                Assert.Contains(rows.RootElement.EnumerateArray(), r => r.GetProperty("shard").GetString() == "east" && r.TryGetProperty("total_bytes", out _));
            }
            using (var health = JsonDocument.Parse(await admin.GetStringAsync("/admin/db/health")))
            {
                var reachable = health.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "shard_reachable");
                Assert.Equal("west", reachable.GetProperty("shard").GetString());
                Assert.False(reachable.GetProperty("ok").GetBoolean());
            }
            var metrics = (await admin.GetStringAsync("/metrics")).Split('\n');
            Assert.Contains("botstore_database_up{shard=\"west\"} 0", metrics);
            Assert.Contains("botstore_database_up{shard=\"east\"} 1", metrics);
            Assert.Contains(metrics, l => l.StartsWith("botstore_partition_runway_months{shard=\"east\",table=\"message_history\"} ", StringComparison.Ordinal));
            Assert.DoesNotContain(metrics, l => l.StartsWith("botstore_partition_runway_months{shard=\"west\"", StringComparison.Ordinal));
        }
        finally
        {
            await shards.StartWestAsync();
        }
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
        // Every tenant transaction enters its tenant (the scope statement, or the append and history functions, which
        // scope themselves): count those on each shard.
        const string entered = """
            SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
            WHERE (query LIKE '%botstore_enter_tenant%' OR query LIKE '%botstore_append_message%' OR query LIKE '%botstore_session_history%')
              AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
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
