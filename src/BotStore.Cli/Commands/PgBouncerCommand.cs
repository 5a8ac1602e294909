using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Tooling.PgBouncer;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore pgbouncer config</c>: a pgbouncer.ini (and userlist) with the seed's pool settings.</summary>
internal static class PgBouncerCommand
{
    public static Command Create()
    {
        // Not --database: every verb's --database names the one database BotStore uses (the default here).
        var shards = new Option<string[]>("--shard")
        {
            Description = "a shard PgBouncer serves: postgres:// URL or connection string, alias=URL to name it; repeat for each (default: the one database, --database)",
            AllowMultipleArgumentsPerToken = false,
        };
        var listenPort = new Option<int>("--listen-port") { Description = "listen_port", DefaultValueFactory = _ => 6432 };
        var userlist = new Option<string?>("--userlist") { Description = "write the userlist (plain passwords, mode 0600) to this file and point auth_file at it" };
        var config = new Command("config", "Print a pgbouncer.ini for transaction pooling with the seed's settings (pool_mode = transaction, default_pool_size = 50, ...).")
        {
            shards, listenPort, userlist,
        };
        config.Runs(async (parseResult, ct) =>
        {
            var urls = parseResult.GetValue(shards) is { Length: > 0 } given ? given : [await DefaultDatabaseAsync(parseResult, ct)];
            var file = parseResult.GetValue(userlist);
            var pgbouncer = PgBouncerConfig.ForDatabases(urls) with { ListenPort = parseResult.GetValue(listenPort) };
            if (file is not null)
            {
                pgbouncer = pgbouncer with { AuthFile = Path.GetFullPath(file) };
                await File.WriteAllTextAsync(file, "", ct);
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                await File.WriteAllTextAsync(file, pgbouncer.RenderUserlist(), ct);
            }
            else
            {
                await Console.Error.WriteLineAsync($"botstore: write the userlist to {pgbouncer.AuthFile} with --userlist FILE (it holds passwords)");
            }
            Console.Out.Write(pgbouncer.RenderIni());
            return ExitCodes.Ok;
        });
        return new Command("pgbouncer", "PgBouncer in front of BotStore's databases.") { config };
    }

    // The database BotStore itself would use: the root --database URL or BOTSTORE_DATABASE_URL, else the embedded cluster.
    private static async Task<string> DefaultDatabaseAsync(ParseResult parseResult, CancellationToken ct)
    {
        var url = parseResult.GetValue(CommonOptions.Database) ?? Environment.GetEnvironmentVariable(DatabaseUrl.EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(url))
            return url;
        await using var target = await DatabaseTarget.OpenAsync(parseResult, ct);
        return target.ConnectionString;
    }
}
