using System.CommandLine;
using System.Globalization;
using BotStore.Cli.Infrastructure;
using BotStore.Tooling.Backup;
using BotStore.Tooling.Embedded;

namespace BotStore.Cli.Commands;

/// <summary>
/// <c>botstore backup [--type]</c>, <c>botstore backup list</c> and <c>botstore restore --to TIME --data-dir NEW</c>:
/// pgBackRest backups and point-in-time recovery of the embedded cluster (an external server has its own pgBackRest,
/// see docs/operations.md).
/// </summary>
internal static class BackupCommand
{
    public static IEnumerable<Command> Create()
    {
        var type = new Option<string>("--type")
        {
            Description = "full, diff or incr (incremental: what changed since the last backup; the first one is full)",
            DefaultValueFactory = _ => "incr",
        };
        type.AcceptOnlyFromAmong("full", "diff", "incr");
        var list = new Command("list", "List the backups in the cluster's pgBackRest repository.") { CommonOptions.Json };
        list.Runs(async (parseResult, ct) =>
        {
            await using var cluster = await OpenSourceAsync(parseResult, parseResult.GetValue(CommonOptions.DataDir)!, parseResult.GetValue(CommonOptions.PgPort), ct);
            var backups = await cluster.Backups!.ListAsync(ct);
            if (parseResult.GetValue(CommonOptions.Json))
            {
                Output.Json(new { repository = cluster.Backups.Repository, backups });
                return ExitCodes.Ok;
            }
            Output.Line($"Repository: {cluster.Backups.Repository}");
            var table = Output.Table("label", "type", "started", "stopped", ">database", ">added to repository");
            foreach (var b in backups)
                table.Row(b.Label, b.Type, b.Started, b.Stopped, Output.Bytes(b.DatabaseBytes), Output.Bytes(b.RepositoryBytes));
            Output.Print(table);
            if (backups.Count == 0)
                Output.Line("No backups yet: run 'botstore backup'.");
            return ExitCodes.Ok;
        });
        var backup = new Command("backup", "Back up the embedded cluster with pgBackRest (its WAL is archived continuously, so any later moment can be restored).")
        {
            type, list,
        };
        backup.Runs(async (parseResult, ct) =>
        {
            await using var cluster = await OpenSourceAsync(parseResult, parseResult.GetValue(CommonOptions.DataDir)!, parseResult.GetValue(CommonOptions.PgPort), ct);
            await cluster.Backups!.BackupAsync(parseResult.GetValue(type)!, ct);
            var last = (await cluster.Backups.ListAsync(ct))[^1];
            Output.Line($"Backup {last.Label} ({last.Type}) of {cluster.Location} in {cluster.Backups.Repository}: " +
                        $"{Output.Bytes(last.RepositoryBytes)} added, restorable from {last.Stopped:yyyy-MM-dd HH:mm:ss}Z on.");
            return ExitCodes.Ok;
        });

        var to = new Option<DateTimeOffset>("--to")
        {
            Description = "the moment to restore, e.g. 2026-12-02T07:15:00Z (without an offset: UTC)",
            Required = true,
            CustomParser = r => DateTimeOffset.TryParse(r.Tokens[0].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                ? t
                : throw new BotStoreValidationException($"--to '{r.Tokens[0].Value}' is not a date and time"),
        };
        var from = new Option<string>("--from")
        {
            Description = "data folder of the cluster whose backups to restore",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BOTSTORE_DATA_DIR") ?? EmbeddedPostgresOptions.DefaultDataDirectory,
        };
        var restore = new Command("restore", "Restore the embedded cluster as it was at --to into a new data folder (--data-dir NEW), which then runs on its own port.")
        {
            to, from,
        };
        restore.Runs(async (parseResult, ct) =>
        {
            if (parseResult.GetResult(CommonOptions.DataDir) is not { Implicit: false })
                throw new BotStoreValidationException("restore needs --data-dir NEW: the new folder to restore into (--from names the cluster to restore)");
            await using var cluster = await OpenSourceAsync(parseResult, parseResult.GetValue(from)!, port: null, ct);
            var restored = await PointInTimeRestore.RestoreAsync(cluster, parseResult.GetValue(CommonOptions.DataDir)!, parseResult.GetValue(to),
                parseResult.GetValue(CommonOptions.PgPort), ct);
            Output.Line($"Restored {cluster.Location} as of {parseResult.GetValue(to).ToUniversalTime():yyyy-MM-dd HH:mm:ss.ffffff}Z into " +
                        $"{restored.DataDirectory}{(restored.LinkedFrom is null ? "" : $" (linked from {restored.LinkedFrom})")}, port {restored.Port}. " +
                        $"Run it with: botstore --data-dir {parseResult.GetValue(CommonOptions.DataDir)} serve");
            return ExitCodes.Ok;
        });
        return [backup, restore];
    }

    // The embedded cluster in dataDir, started for the verb when it is not running (pgBackRest needs the server up).
    // For restore, --pg-port is the new cluster's, and the original keeps its own.
    private static async Task<EmbeddedPostgres> OpenSourceAsync(ParseResult parseResult, string dataDir, int? port, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(parseResult.GetValue(CommonOptions.Database) ?? Environment.GetEnvironmentVariable(DatabaseUrl.EnvironmentVariable)))
            throw new BotStoreValidationException("backup and restore work on the embedded cluster; for an external server configure pgBackRest itself (docs/operations.md)");
        var cluster = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions
        {
            DataDirectory = dataDir,
            Port = port,
        }, ct);
        if (cluster.Backups is null)
        {
            await cluster.DisposeAsync();
            throw new BotStoreConfigurationException($"the cluster in {cluster.DataDirectory} does not archive its WAL");
        }
        return cluster;
    }
}
