using System.CommandLine;
using BotStore.Cli.Infrastructure;
using BotStore.Tooling.PgBouncer;

namespace BotStore.Cli.Commands;

/// <summary><c>botstore pgbouncer config</c>: a pgbouncer.ini (and userlist) with the seed's pool settings.</summary>
internal static class PgBouncerCommand
{
    public static Command Create()
    {
        var listenPort = new Option<int>("--listen-port") { Description = "listen_port", DefaultValueFactory = _ => 6432 };
        var userlist = new Option<string?>("--userlist") { Description = "write the userlist (plain passwords, mode 0600) to this file and point auth_file at it" };
        var config = new Command("config", "Print a pgbouncer.ini for transaction pooling with the seed's settings (pool_mode = transaction, default_pool_size = 50, ...).")
        {
            listenPort, userlist,
        };
        config.Runs(async (parseResult, ct) =>
        {
            // The shards every verb takes (--shard NAME=URL, or BotStore:Shards), each a database of PgBouncer's; else the one database.
            var named = ShardTargets.Named(parseResult, ShardTargets.Configuration());
            var urls = named.Count > 0 ? named.Select(s => $"{s.Name}={s.Url}").ToArray() : [await DefaultDatabaseAsync(parseResult, ct)];
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
