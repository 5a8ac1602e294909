using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Partitions;
using BotStore.Schema;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore db status</c>: server, schema version and partitions.</summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var status = new Command("status", "Show the server version, applied and pending migrations, and each partitioned table's partitions.")
        {
            CommonOptions.Json,
        };
        status.Runs((parseResult, ct) => ShardTargets.EachAsync(parseResult, ct, async target =>
        {
            await using var versionCmd = target.DataSource.CreateCommand("SELECT version(), current_database()");
            await using var reader = await versionCmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var (server, database) = (reader.GetString(0), reader.GetString(1));
            await reader.DisposeAsync();

            var runner = new MigrationRunner(target.DataSource);
            var applied = await runner.ReadAppliedAsync(ct);
            var pending = await runner.PendingAsync(ct);
            var partitions = applied.Count > 0 ? await PartitionInfo.ListAsync(target.DataSource, ct) : [];

            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(new
                {
                    server, database, where = target.Description,
                    applied, pending = pending.Select(m => m.ToString()),
                    partitions,
                });
                return ExitCodes.Ok;
            }
            Output.Line($"Database:  {database} on {target.Description}");
            Output.Line($"Server:    {server}");
            Output.Line($"Schema:    version {(applied.Count > 0 ? applied[^1].Version : 0)} of {Migration.LatestVersion}" +
                        (pending.Count > 0 ? $", {pending.Count} pending: run 'botstore migrate'" : ", up to date"));
            var migrations = Output.Table(">version", "name", "applied at");
            foreach (var m in applied)
                migrations.Row(m.Version, m.Name, m.AppliedAt);
            foreach (var m in pending)
                migrations.Row(m.Version, m.Name, "pending");
            Output.Print(migrations);
            var table = Output.Table("table", "partition", "from", "to", ">rows (est.)", ">size");
            foreach (var p in partitions)
                table.Row(p.Parent, p.Name, p.IsDefault ? "DEFAULT" : p.From, p.To, p.EstimatedRows < 0 ? "-" : p.EstimatedRows, Output.Bytes(p.TotalBytes));
            Output.Print(table);
            return ExitCodes.Ok;
        }));
        var command = new Command("db", "Inspect the database BotStore uses.") { status };
        return command;
    }
}
