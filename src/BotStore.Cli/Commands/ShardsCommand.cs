using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Sharding;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore shards</c>: each shard's state, and where a tenant lives.</summary>
internal static class ShardsCommand
{
    public static Command Create()
    {
        var status = new Command("status", "Per shard: reachable, server version, tenants, size, connections, replication lag of a move in progress, what moves lack.")
        {
            CommonOptions.Json,
        };
        status.Runs(StatusAsync);

        var tenant = new Argument<string>("tenant") { Description = "a tenant's id or name" };
        var route = new Command("route", "Print the shard that holds a tenant (from the tenant directory).") { tenant, CommonOptions.Json };
        route.Runs(async (parseResult, ct) =>
        {
            await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
            var (found, target) = await shards.FindTenantAsync(parseResult.GetValue(tenant)!, ct);
            if (parseResult.GetValue(CommonOptions.Json))
                Output.Json(new { tenant_id = found.Id, name = found.Name, shard = target.ShardName });
            else
                Output.Line($"tenant {found.Id} ({found.Name}): on shard '{target.ShardName}' ({target.Description})");
            return ExitCodes.Ok;
        });
        return new Command("shards", "Shards: every row of a tenant lives on the one shard the tenant directory names.") { status, route };
    }

    private static async Task<int> StatusAsync(ParseResult parseResult, CancellationToken ct)
    {
        var named = ShardTargets.Named(parseResult, ShardTargets.Configuration());
        await using var single = named.Count == 0 ? await DatabaseTarget.OpenAsync(parseResult, ct) : null;
        // Not ShardTargets.OpenAsync: that refuses to start when a shard is down, and status must show which one.
        var sources = single is not null
            ? [(Shard: new Shard(ShardRouter.DefaultShardName, single.DataSource), Where: single.Description)]
            : named.Select(s => (Shard: new Shard(s.Name, ConnectionSettings.Default.CreateDataSource(s.Url, "botstore-status")), Where: DatabaseUrl.Redact(s.Url))).ToList();
        var configured = ShardTargets.Configuration()[Server.ShardOptions.DirectoryKey];
        await using var router = new ShardRouter(sources.Select(s => s.Shard),
            sources.Any(s => s.Shard.Name == configured) ? configured : null, ownsDataSources: single is null);
        var rows = await ShardStatus.ReadAsync(router, shard => sources.Single(s => s.Shard == shard).Where, ct);
        if (parseResult.GetValue(CommonOptions.Json))
        {
            Output.Json(rows);
            return ExitCodes.Ok;
        }
        var table = Output.Table("shard", "where", "reachable", "version", ">tenants", ">in directory", ">size", ">connections", ">move lag", "moves need");
        foreach (var r in rows)
        {
            table.Row(r.Shard, r.Where, r.Reachable ? "yes" : $"no: {r.Error}", r.Version, r.Tenants, r.DirectoryTenants,
                r.SizeBytes is { } size ? Output.Bytes(size) : null, r.Connections,
                r.Moves.Count == 0 ? "-" : string.Join(", ", r.Moves.Select(m => $"tenant {m.TenantId}: {Output.Bytes(m.LagBytes)}")),
                r.Missing.Count == 0 ? "-" : string.Join("; ", r.Missing));
        }
        Output.Print(table);
        return rows.All(r => r.Reachable) ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
