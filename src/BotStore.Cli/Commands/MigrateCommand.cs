using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Schema;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore migrate</c>: applies the pending migrations and premakes monthly partitions.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var command = new Command("migrate", "Apply pending schema migrations, then create the current month's partitions and the next ones.")
        {
            CommonOptions.Json,
        };
        command.Runs(async (parseResult, ct) =>
        {
            // Every shard is migrated first; then the directory learns of tenants a shard held before it was one.
            var code = await ShardTargets.EachAsync(parseResult, ct, target => MigrateAsync(parseResult, target, ct));
            if (code == ExitCodes.Ok)
                await RegisterTenantsAsync(parseResult, ct);
            return code;
        });
        return command;
    }

    private static async Task RegisterTenantsAsync(ParseResult parseResult, CancellationToken ct)
    {
        await using var shards = await ShardTargets.OpenAsync(parseResult, ct);
        await RegisterTenantsAsync(shards, ct);
    }

    /// <summary>Records in the directory the tenants a shard held before it was one; refuses a tenant id found on two shards.</summary>
    internal static async Task RegisterTenantsAsync(ShardTargets shards, CancellationToken ct)
    {
        if (shards.IsSingle)
            return;
        foreach (var target in shards.Targets)
        {
            await using var cmd = target.DataSource.CreateCommand("SELECT coalesce(array_agg(id), '{}') FROM tenants");
            var ids = (long[])(await cmd.ExecuteScalarAsync(ct))!;
            var clashes = await shards.Router.Directory.RegisterAsync(target.ShardName, ids, ct);
            if (clashes.Count > 0)
                throw new BotStoreConflictException(
                    $"tenant {clashes[0].TenantId} is on shard '{target.ShardName}' but the directory places it on '{clashes[0].Shard}' " +
                    $"({clashes.Count} such tenant(s)): the same tenant id on two shards; were these databases copies of one another?");
        }
    }

    private static async Task<int> MigrateAsync(ParseResult parseResult, DatabaseTarget target, CancellationToken ct)
    {
        var result = await new MigrationRunner(target.DataSource).MigrateAsync(ct);
        if (parseResult.GetValue(CommonOptions.Json))
        {
            Output.Json(new
            {
                applied = result.Applied.Select(m => m.ToString()),
                already_applied = result.AlreadyApplied,
                version = Migration.LatestVersion,
                partitions_created = result.PartitionsCreated,
            });
            return ExitCodes.Ok;
        }
        Output.Line($"Database: {target.Description}");
        if (result.Applied.Count == 0)
            Output.Line($"Nothing to migrate: the schema is at version {Migration.LatestVersion}.");
        foreach (var m in result.Applied)
            Output.Line($"Applied {m}");
        if (result.PartitionsCreated.Count > 0)
            Output.Line($"Created partitions: {string.Join(", ", result.PartitionsCreated)}");
        return ExitCodes.Ok;
    }
}
