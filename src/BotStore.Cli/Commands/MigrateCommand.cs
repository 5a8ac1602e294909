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
            await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
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
        });
        return command;
    }
}
