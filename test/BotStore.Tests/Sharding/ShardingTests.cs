using BotStore.Data;
using BotStore.Sharding;
using BotStore.Tests.Infrastructure;
using Npgsql;

namespace BotStore.Tests.Sharding;

public sealed class ShardingTests : IAsyncLifetime
{
    private readonly TestDatabase _east = new();
    private readonly TestDatabase _west = new();

    public Task InitializeAsync() => Task.WhenAll(_east.InitializeAsync(), _west.InitializeAsync());

    public async Task DisposeAsync()
    {
        await _east.DisposeAsync();
        await _west.DisposeAsync();
    }

    [Fact]
    public async Task Each_shard_creates_tenants_only_in_its_logical_range_and_the_router_finds_them()
    {
        var map = ShardMap.Parse(["east=0-300", "west=300-1024"]);
        await using var router = new ShardRouter(map, new Dictionary<string, NpgsqlDataSource>
        {
            ["east"] = NpgsqlDataSource.Create(_east.ConnectionString),
            ["west"] = NpgsqlDataSource.Create(_west.ConnectionString),
        });
        await router.InitializeShardAsync("east");
        await router.InitializeShardAsync("west");

        var created = new List<(string Shard, long Id)>();
        for (var i = 0; i < 40; i++)
        {
            var shard = i % 2 == 0 ? "east" : "west";
            var db = shard == "east" ? _east : _west;
            var (tenant, _) = await new TenantStore(db.DataSource).CreateAsync($"t{i}");
            created.Add((shard, tenant.Id));
        }

        foreach (var (shard, id) in created)
        {
            Assert.Equal(shard, map.ShardOf(id).Name);
            // The router's data source really is the database that holds the tenant.
            await using var cmd = router.For(id).CreateCommand("SELECT count(*) FROM tenants WHERE id = $1");
            cmd.Parameters.Add(new NpgsqlParameter { Value = id });
            Assert.Equal(1L, (long)(await cmd.ExecuteScalarAsync())!);
        }
        // Round-robin over the range, so a later split of a shard moves a share of its tenants.
        Assert.True(created.Where(c => c.Shard == "west").Select(c => ShardMap.LogicalShardOf(c.Id)).Distinct().Count() > 10);
    }

    [Fact]
    public async Task A_tenants_rows_all_live_on_its_shard()
    {
        var map = ShardMap.Even("east", "west");
        await using var router = new ShardRouter(map, new Dictionary<string, NpgsqlDataSource>
        {
            ["east"] = NpgsqlDataSource.Create(_east.ConnectionString),
            ["west"] = NpgsqlDataSource.Create(_west.ConnectionString),
        });
        await router.InitializeShardAsync("west");
        var (tenant, _) = await new TenantStore(_west.DataSource).CreateAsync("acme");
        var home = router.For(tenant.Id);
        await using (var insert = home.CreateCommand("INSERT INTO bots (tenant_id, id, llm_provider, name) VALUES ($1, $2, 1, 'b')"))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = tenant.Id });
            insert.Parameters.Add(new NpgsqlParameter { Value = Uuid7.New() });
            await insert.ExecuteNonQueryAsync();
        }
        Assert.Equal(1L, await _west.ScalarAsync<long>("SELECT count(*) FROM bots WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(0L, await _east.ScalarAsync<long>("SELECT count(*) FROM bots"));
    }

    [Theory]
    [InlineData("a=0-500 b=600-1024")]
    [InlineData("a=0-600 b=500-1024")]
    [InlineData("a=0-512")]
    [InlineData("a=0-512 a=512-1024")]
    [InlineData("a:0-1024")]
    public void A_map_with_gaps_overlaps_or_bad_syntax_is_refused(string items) =>
        Assert.Throws<BotStoreConfigurationException>(() => ShardMap.Parse(items.Split(' ')));

    [Fact]
    public void An_even_map_covers_every_logical_shard_once()
    {
        var map = ShardMap.Even("a", "b", "c");
        Assert.Equal(ShardMap.LogicalShards, map.Shards.Sum(s => s.To - s.From));
        Assert.Equal("c", map.ShardOf(1023).Name);
        Assert.Equal("a", map.ShardOf(1024).Name);
    }
}
