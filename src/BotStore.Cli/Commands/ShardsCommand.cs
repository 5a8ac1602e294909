using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Sharding;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore shards</c>: where a tenant lives, and preparing a database to be one shard of a map.</summary>
internal static class ShardsCommand
{
    public static Command Create()
    {
        var map = new Option<string[]>("--map")
        {
            Description = "the shard map: name=from-to per shard over logical shards 0..1024, e.g. --map east=0-512 --map west=512-1024",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var tenant = new Argument<long>("tenant-id") { Description = "a tenant id" };
        var route = new Command("route", "Print the logical shard and the shard that hold a tenant.") { tenant, map, CommonOptions.Json };
        route.Runs((parseResult, _) =>
        {
            var shardMap = ShardMap.Parse(parseResult.GetValue(map)!);
            var id = parseResult.GetValue(tenant);
            var shard = shardMap.ShardOf(id);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(new { tenant_id = id, logical_shard = ShardMap.LogicalShardOf(id), shard = shard.Name });
            else
                Output.Line($"tenant {id}: logical shard {ShardMap.LogicalShardOf(id)}, on shard '{shard.Name}' [{shard.From}, {shard.To})");
            return Task.FromResult(ExitCodes.Ok);
        });

        var name = new Argument<string>("shard") { Description = "the name this database has in the map" };
        var init = new Command("init", "Make the database (--database) hand out tenant ids only in the logical range the map gives this shard.") { name, map };
        init.Runs(async (parseResult, ct) =>
        {
            var shardMap = ShardMap.Parse(parseResult.GetValue(map)!);
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var shardName = parseResult.GetValue(name)!;
            var shard = shardMap.Shards.FirstOrDefault(s => s.Name == shardName)
                ?? throw new BotStoreConfigurationException($"'{shardName}' is not a shard of the map");
            await ShardRouter.InitializeAsync(target.DataSource, shard, ct);
            Output.Line($"{target.Description} is shard '{shardName}': new tenants get logical shards [{shard.From}, {shard.To}).");
            return ExitCodes.Ok;
        });
        return new Command("shards", "Tenant-to-shard routing: every row of a tenant lives on the shard of its logical shard (tenant id % 1024).") { route, init };
    }
}
