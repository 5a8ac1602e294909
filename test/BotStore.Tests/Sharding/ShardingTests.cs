using BotStore.Data;
using BotStore.Enums;
using BotStore.Sharding;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Sharding;

/// <summary>Placement, routing and the fence over two real shards, each behind its own PgBouncer in transaction mode.</summary>
public sealed class ShardingTests(TwoShards shards) : IClassFixture<TwoShards>
{
    private static readonly string[] TenantTables =
        ["tenants", "bots", "users", "user_sessions", "message_history", "api_tokens"];

    [Fact]
    public async Task Tenants_spread_over_both_shards_and_each_tenants_rows_live_on_exactly_one()
    {
        await using var router = shards.CreateRouter();
        var tenants = new TenantStore(router);
        var bots = new BotRegistry(router);
        var users = new UserStore(router);
        var sessions = new SessionStore(router);
        var messages = new MessageStore(router);
        var created = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var (tenant, _) = await tenants.CreateAsync($"spread-{Guid.NewGuid():N}"[..20]);
            var bot = await bots.CreateAsync(tenant.Id, "helper", LlmProvider.Anthropic);
            var user = await users.CreateAsync(tenant.Id, "u1");
            var session = await sessions.CreateAsync(tenant.Id, user.Id, bot.Id, ChannelType.Web);
            await messages.AppendAsync(tenant.Id, new NewMessage(session.Id, MessageRole.User, "hello"));
            created.Add(tenant.Id);
        }

        Assert.Equal(created.Count, created.Distinct().Count());
        var placed = new Dictionary<string, int>();
        foreach (var id in created)
        {
            var home = await tenants.ShardOfAsync(id);
            placed[home] = placed.GetValueOrDefault(home) + 1;
            foreach (var shard in shards.All)
            {
                foreach (var table in TenantTables)
                {
                    var rows = await shard.ScalarAsync<long>(
                        $"SELECT count(*) FROM {table} WHERE {(table == "tenants" ? "id" : "tenant_id")} = $1", id);
                    Assert.True(shard.Name == home ? rows > 0 : rows == 0, $"tenant {id} (on {home}) has {rows} row(s) in {table} on {shard.Name}");
                }
            }
        }
        // The shard with the fewest tenants gets the next one: both get some.
        Assert.Equal(2, placed.Count);
        Assert.InRange(placed["east"], 2, 4);
    }

    [Fact]
    public async Task A_tenant_created_on_a_named_shard_is_served_there_and_an_unknown_shard_is_refused()
    {
        await using var router = shards.CreateRouter();
        var tenants = new TenantStore(router);
        var (tenant, token) = await tenants.CreateAsync($"west-{Guid.NewGuid():N}"[..20], "west");
        Assert.Equal("west", await tenants.ShardOfAsync(tenant.Id));
        Assert.Equal(tenant.Id, (await tenants.AuthenticateAsync(token))?.TenantId);
        var user = await new UserStore(router).CreateAsync(tenant.Id, "ana");
        Assert.Equal(1L, await shards.West.ScalarAsync<long>("SELECT count(*) FROM users WHERE id = $1", user.Id));

        var before = await shards.East.ScalarAsync<long>("SELECT count(*) FROM tenant_directory");
        var error = await Assert.ThrowsAsync<BotStoreValidationException>(() => tenants.CreateAsync("nowhere", "north"));
        Assert.Contains("unknown shard 'north'", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await shards.East.ScalarAsync<long>("SELECT count(*) FROM tenant_directory"));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => new UserStore(router).ListAsync(987_654_321));
    }

    [Fact]
    public async Task A_stale_cache_never_acts_on_the_shard_a_tenant_left_the_fence_sends_it_to_the_new_one()
    {
        // A router that would trust its cache for an hour: only the fence can tell it the tenant moved.
        await using var stale = shards.CreateRouter(directoryCacheTime: TimeSpan.FromHours(1));
        await using var mover = shards.CreateRouter();
        var (tenant, _) = await new TenantStore(mover).CreateAsync($"moving-{Guid.NewGuid():N}"[..20], "east");
        await new UserStore(mover).CreateAsync(tenant.Id, "left-behind");
        Assert.Single((await new UserStore(stale).ListAsync(tenant.Id)).Items); // cached: east

        // What a move does at its switch (without copying: the west copy is empty, which makes the routing visible).
        await using (var east = new NpgsqlConnection(shards.East.DirectConnectionString + ";Pooling=false"))
        {
            await east.OpenAsync();
            await using var tx = await east.BeginTransactionAsync();
            await using (var fence = new NpgsqlCommand("INSERT INTO tenant_fence (tenant_id, moved_to) VALUES ($1, 'west')", east, tx))
            {
                fence.Parameters.Add(new NpgsqlParameter { Value = tenant.Id });
                await fence.ExecuteNonQueryAsync();
            }
            await mover.Directory.MoveAsync(tenant.Id, "east", "west", east);
            await tx.CommitAsync();
        }

        Assert.Empty((await new UserStore(stale).ListAsync(tenant.Id)).Items);
        // The append function enters the tenant itself, so the shard it left refuses it too.
        var id = Uuid7.New();
        var refused = await Assert.ThrowsAsync<PostgresException>(() => shards.East.ScalarAsync<bool>(
            "SELECT found_session FROM botstore_append_message($1, $2, $3, $4, 1::smallint, 0::smallint, 'left', NULL)", tenant.Id, Uuid7.New(), id, Uuid7.Timestamp(id)));
        Assert.Equal(ShardRouter.MovedSqlState, refused.SqlState);
        // So does the history function (migration 0027).
        var unread = await Assert.ThrowsAsync<PostgresException>(() => shards.East.ScalarAsync<object>(
            "SELECT id FROM botstore_session_history($1, $2, '-infinity', 'infinity', -1, 2147483647, 51, true)", tenant.Id, Uuid7.New()));
        Assert.Equal(ShardRouter.MovedSqlState, unread.SqlState);
        Assert.Equal("west", (await stale.ShardOfAsync(tenant.Id)).Name);
        // The compare-and-set refuses a switch from a shard the tenant is not on.
        await Assert.ThrowsAsync<BotStoreConflictException>(() => mover.Directory.MoveAsync(tenant.Id, "east", "west"));
    }

    [Fact]
    public async Task The_move_lock_fences_one_tenant_only_and_a_fence_that_outlasts_lock_timeout_is_unavailable()
    {
        await using var router = shards.CreateRouter();
        var tenants = new TenantStore(router);
        var (fenced, _) = await tenants.CreateAsync($"fenced-{Guid.NewGuid():N}"[..20], "east");
        var (other, _) = await tenants.CreateAsync($"other-{Guid.NewGuid():N}"[..20], "east");
        var users = new UserStore(router);

        await using var mover = new NpgsqlConnection(shards.East.DirectConnectionString + ";Pooling=false");
        await mover.OpenAsync();
        await using (var lockIt = new NpgsqlCommand("SELECT pg_advisory_lock($1)", mover))
        {
            lockIt.Parameters.Add(new NpgsqlParameter { Value = ShardRouter.MoveLockKey(fenced.Id) });
            await lockIt.ExecuteNonQueryAsync();
        }
        var waiting = users.CreateAsync(fenced.Id, "waits");
        // The append scopes itself inside botstore_append_message (migration 0026): it is fenced the same way, before
        // it looks for the session.
        var messages = new MessageStore(router);
        var appending = messages.AppendAsync(fenced.Id, new NewMessage(Uuid7.New(), MessageRole.User, "waits"));
        // So does the history read inside botstore_session_history (migration 0027), before it looks for the session.
        var reading = messages.HistoryAsync(fenced.Id, Uuid7.New());
        Assert.Equal("served", (await users.CreateAsync(other.Id, "served")).ExternalId);
        var error = await Assert.ThrowsAsync<BotStoreUnavailableException>(() => waiting);
        Assert.Contains("being moved", error.Message, StringComparison.Ordinal);
        Assert.Contains("being moved", (await Assert.ThrowsAsync<BotStoreUnavailableException>(() => appending)).Message, StringComparison.Ordinal);
        Assert.Contains("being moved", (await Assert.ThrowsAsync<BotStoreUnavailableException>(() => reading)).Message, StringComparison.Ordinal);
        Assert.Equal(0L, await shards.East.ScalarAsync<long>("SELECT count(*) FROM users WHERE tenant_id = $1", fenced.Id));

        await using (var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", mover))
            await unlock.ExecuteNonQueryAsync();
        Assert.Equal("after", (await users.CreateAsync(fenced.Id, "after")).ExternalId);
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => messages.AppendAsync(fenced.Id, new NewMessage(Uuid7.New(), MessageRole.User, "after")));
        await Assert.ThrowsAsync<BotStoreNotFoundException>(() => messages.HistoryAsync(fenced.Id, Uuid7.New()));
    }

    [Fact]
    public async Task Two_shards_with_one_name_or_a_bad_name_are_refused()
    {
        await using var a = shards.East.CreateDirect();
        Assert.Throws<BotStoreConfigurationException>(() => new ShardRouter([new Shard("east", a), new Shard("east", a)]));
        Assert.Throws<BotStoreConfigurationException>(() => new ShardRouter([new Shard("East!", a)]));
        Assert.Throws<BotStoreValidationException>(() => new ShardRouter([new Shard("east", a)], directoryShard: "west"));
    }
}
