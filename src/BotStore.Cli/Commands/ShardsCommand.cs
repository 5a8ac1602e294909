using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Sharding;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore shards</c>: where tenants live.</summary>
internal static class ShardsCommand
{
    public static Command Create()
    {
        var tenant = new Argument<long>("tenant-id") { Description = "a tenant id" };
        var route = new Command("route", "Print the shard that holds a tenant (from the tenant directory).") { tenant, CommonOptions.Json };
        route.Runs(async (parseResult, ct) =>
        {
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
            var id = parseResult.GetValue(tenant);
            var shard = await ShardRouter.Single(target.DataSource).ShardOfAsync(id, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(new { tenant_id = id, shard = shard.Name });
            else
                Output.Line($"tenant {id}: on shard '{shard.Name}'");
            return ExitCodes.Ok;
        });
        return new Command("shards", "Shards: every row of a tenant lives on the shard the tenant directory names.") { route };
    }
}
